// Applies prisma/migrations/*/migration.sql in order, recording them in `_prisma_migrations`
// exactly as `prisma migrate deploy` would. Idempotent: applied migrations are skipped.
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { prismaDir } from '../paths.js'
import type { SchemaEngine } from './schema-engine.js'

export const schemaPath = join(prismaDir, 'schema.prisma')
export const migrationsDir = join(prismaDir, 'migrations')

const noFilters = { externalTables: [], externalEnums: [] }

async function migrationNames (): Promise<string[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true })
  return entries.filter(e => e.isDirectory()).map(e => e.name).sort()
}

export async function loadMigrationsList () {
  const dirs = await migrationNames()
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

/** The migrations not yet recorded as applied in the database at `path`. */
export async function pendingMigrations (path: string): Promise<string[]> {
  const names = await migrationNames()
  if (!existsSync(path)) return names
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get()
    if (table === undefined) return names
    const applied = new Set(db.prepare('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')
      .pluck().all() as string[])
    return names.filter(name => !applied.has(name))
  } finally {
    db.close()
  }
}

/**
 * Brings the database at `url` up to date; returns the names of the migrations it applied.
 * The schema engine locks the file exclusively (locking_mode=EXCLUSIVE), which fails while
 * another process has it open: it is started only when something is pending, so that more
 * instances can start beside a running one, and start faster.
 */
export async function migrate (url: string): Promise<string[]> {
  if ((await pendingMigrations(url.slice('file:'.length))).length === 0) return []
  try {
    // Loaded only then: a restart on an up-to-date database does without it.
    const { withSchemaEngine } = await import('./schema-engine.js')
    return await withSchemaEngine(url, schemaPath, applyMigrations)
  } catch (err) {
    throw new Error(`could not migrate ${url}; if another process has it open, stop it and start again (${(err as Error).message.split('\n')[0]})`)
  }
}

export { noFilters }
