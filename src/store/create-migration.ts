// Development tool: `npm run db:migration -- <name>` writes, for each engine whose migrations
// fall behind prisma/schema.prisma, a migration folder <timestamp>_<name> with the SQL that
// catches up: prisma/migrations/ for SQLite, prisma/postgres/migrations/ for PostgreSQL (from
// the same models, through prisma/postgres/schema.prisma).
// For each, it replays the migrations into a scratch database (a file for SQLite, PGlite in
// memory for PostgreSQL) and diffs that against the schema: the same result as
// `prisma migrate dev --create-only`, without the native engine it needs.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { applyMigrations, noFilters, withSchemaEngine, type SchemaEngine } from './schema-engine.js'
import { migrationsDir } from './migrate.js'
import { postgresMigrationsDir } from './postgres-migrate.js'
import { prismaDir } from '../paths.js'

export const schemaPath = join(prismaDir, 'schema.prisma')
export const postgresSchemaPath = join(prismaDir, 'postgres', 'schema.prisma')

/** The SQL that takes a database with `dir`'s migrations to the schema at `schema`; '' if none. */
export async function pendingChange (engine: SchemaEngine, schema: string, dir: string, configDir: string): Promise<string> {
  await applyMigrations(engine, dir)
  const files = [{ path: schema, content: await readFile(schema, 'utf8') }]
  const { stdout } = await engine.diff({
    from: { tag: 'schemaDatasource', files, configDir },
    to: { tag: 'schemaDatamodel', files },
    script: true,
    exitCode: null,
    filters: noFilters
  })
  // The service migrates within the schema of its connection, which it may not be allowed to create.
  const sql = (stdout ?? '').replace(/-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n*/, '')
  return sql.trim() === '' || /^-- This is an empty migration/.test(sql.trim()) ? '' : sql
}

/** What each engine's migrations lack, from scratch databases. */
export async function pendingChanges (): Promise<{ sqlite: string, postgres: string }> {
  const scratch = await mkdtemp(join(tmpdir(), 'authd-migration-'))
  try {
    const sqlite = await withSchemaEngine(`file:${join(scratch, 'scratch.db')}`, schemaPath,
      engine => pendingChange(engine, schemaPath, migrationsDir, scratch))
    const pglite = new PGlite()
    try {
      const postgres = await withSchemaEngine(new PrismaPGlite(pglite), postgresSchemaPath,
        engine => pendingChange(engine, postgresSchemaPath, postgresMigrationsDir, scratch))
      return { sqlite, postgres }
    } finally {
      await pglite.close()
    }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

async function main (name: string | undefined) {
  if (name === undefined || !/^[a-z0-9_]+$/.test(name)) {
    console.error('usage: npm run db:migration -- <name in snake_case>')
    process.exit(2)
  }
  const changes = await pendingChanges()
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
  for (const [engine, dir] of [['sqlite', migrationsDir], ['postgres', postgresMigrationsDir]] as const) {
    if (changes[engine] === '') {
      console.log(`${engine}: the migrations already match the schema; nothing to write.`)
      continue
    }
    const folder = join(dir, `${stamp}_${name}`)
    await mkdir(folder, { recursive: true })
    await writeFile(join(folder, 'migration.sql'), changes[engine])
    console.log(`${engine}: wrote ${folder}/migration.sql`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv[2])
