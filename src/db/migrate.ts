// Applies prisma/migrations/*/migration.sql in order, recording them in `_prisma_migrations`
// exactly as `prisma migrate deploy` would. Idempotent: applied migrations are skipped.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { withSchemaEngine, type SchemaEngine } from './schema-engine.js'

// Both src/db (tests) and dist/db (built) sit two levels below the package root.
export const prismaDir = fileURLToPath(new URL('../../prisma/', import.meta.url))
export const schemaPath = join(prismaDir, 'schema.prisma')
export const migrationsDir = join(prismaDir, 'migrations')

const noFilters = { externalTables: [], externalEnums: [] }

export async function loadMigrationsList () {
  const entries = await readdir(migrationsDir, { withFileTypes: true })
  const dirs = entries.filter(e => e.isDirectory()).map(e => e.name).sort()
  const migrationDirectories = await Promise.all(dirs.map(async path => ({
    path,
    migrationFile: {
      path: 'migration.sql',
      content: { tag: 'ok' as const, value: await readFile(join(migrationsDir, path, 'migration.sql'), 'utf8') }
    }
  })))
  const lockPath = 'migration_lock.toml'
  return {
    baseDir: migrationsDir,
    lockfile: { path: lockPath, content: await readFile(join(migrationsDir, lockPath), 'utf8') },
    shadowDbInitScript: '',
    migrationDirectories
  }
}

export async function applyMigrations (engine: SchemaEngine): Promise<string[]> {
  const { appliedMigrationNames } = await engine.applyMigrations({
    migrationsList: await loadMigrationsList(),
    filters: noFilters
  })
  return appliedMigrationNames
}

/** Brings the database at `url` up to date; returns the names of the migrations it applied. */
export function migrate (url: string): Promise<string[]> {
  return withSchemaEngine(url, schemaPath, applyMigrations)
}

export { noFilters }
