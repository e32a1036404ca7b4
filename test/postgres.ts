// PostgreSQL for the tests: with TEST_ENGINE=postgres (npm run test:postgres), every app the
// helper builds gets a database of its own on the server TEST_POSTGRES_URL names, created from
// a template migrated once per set of migrations; a folder passed as `dir` stands for one empty
// database, shared by the apps built on it, as a SQLite file would be. All are dropped when the
// test file ends.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import tap from 'tap'
import pg from 'pg'
import { migratePostgres, postgresMigrationsDir } from '../src/store/postgres-migrate.js'
import { migrationNames } from '../src/store/migration-files.js'

export const engine: 'sqlite' | 'postgres' = process.env.TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite'
export const onPostgres = engine === 'postgres'

/** The server's URL for a database of this name. */
export function urlOf (database: string): string {
  const server = process.env.TEST_POSTGRES_URL
  if (server === undefined || server === '') throw new Error('TEST_POSTGRES_URL is not set: the PostgreSQL tests need a server (see docs/development.md)')
  const url = new URL(server)
  url.pathname = `/${database}`
  return url.toString()
}

export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow> (sql: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: process.env.TEST_POSTGRES_URL })
  await client.connect()
  try {
    return await client.query<R>(sql, values)
  } finally {
    await client.end()
  }
}

const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`

// The template's name says which migrations it holds: a new migration makes a new template.
const migrationsHash = createHash('sha256')
  .update(migrationNames(postgresMigrationsDir).map(name => name + readFileSync(join(postgresMigrationsDir, name, 'migration.sql'), 'utf8')).join('\n'))
  .digest('hex').slice(0, 12)
const TEMPLATE = `authd_template_${migrationsHash}`

let template: Promise<string> | undefined
function migratedTemplate (): Promise<string> {
  template ??= (async () => {
    const exists = async () => (await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE])).rowCount === 1
    if (await exists()) return TEMPLATE
    // Test files start side by side: one builds it under another name and renames it when done.
    const building = `${TEMPLATE}_${process.pid}`
    await adminQuery(`CREATE DATABASE ${quoted(building)}`)
    const client = new pg.Client({ connectionString: urlOf(building) })
    await client.connect()
    try {
      await migratePostgres(client)
    } finally {
      await client.end()
    }
    try {
      await adminQuery(`ALTER DATABASE ${quoted(building)} RENAME TO ${quoted(TEMPLATE)}`)
    } catch (err) {
      // Another file finished first.
      await adminQuery(`DROP DATABASE ${quoted(building)}`)
      if (!(await exists())) throw err
    }
    return TEMPLATE
  })()
  return template
}

const created: string[] = []
let counter = 0
const byDir = new Map<string, Promise<string>>()

async function createDatabase (fromTemplate: boolean): Promise<string> {
  const name = `authd_test_${process.pid}_${++counter}`
  if (created.length === 0) {
    tap.teardown(async () => {
      for (const db of created) await adminQuery(`DROP DATABASE IF EXISTS ${quoted(db)} WITH (FORCE)`)
    })
  }
  created.push(name)
  const from = fromTemplate ? ` TEMPLATE ${quoted(await migratedTemplate())}` : ''
  await adminQuery(`CREATE DATABASE ${quoted(name)}${from}`)
  return urlOf(name)
}

/**
 * The URL of a database for one app: a migrated copy of its own, or, for a folder, one empty
 * database shared by every app built on that folder (which migrates it on start).
 */
export function postgresDatabase (dir?: string): Promise<string> {
  if (dir === undefined) return createDatabase(true)
  let url = byDir.get(dir)
  if (url === undefined) byDir.set(dir, url = createDatabase(false))
  return url
}
