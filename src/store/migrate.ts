// Applies prisma/migrations/*/migration.sql in order on SQLite, recording each in
// `_prisma_migrations` as `prisma migrate deploy` does (the same table, the same checksum, times
// as Prisma's adapter writes them), so that Prisma's own tools see the same history. The
// PostgreSQL twin is ./postgres-migrate.ts.
//
// The pending migrations run in one IMMEDIATE transaction with their history rows. SQLite's DDL
// is transactional: a crash or a failure midway leaves none of them applied. Instances started
// at once on one file queue on the write lock; the first migrates, the others find nothing
// pending. No other connection is locked out meanwhile for longer than a write, so an
// instance can start beside a running one, migrations pending or not.
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { prismaDir } from '../paths.js'
import { isoText } from './rows.js'
import { migrationChecksum, migrationNames, unfinishedMigration } from './migration-files.js'

export const migrationsDir = join(prismaDir, 'migrations')

/** How long a write waits for another process's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000

// The table as Prisma's schema engine creates it on SQLite.
const HISTORY = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`

/** The database file of a `file:` URL. */
const fileOf = (url: string) => url.slice('file:'.length)

interface HistoryRow { migration_name: string, finished_at: string | null }

function history (db: Database.Database): HistoryRow[] {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get()
  if (table === undefined) return []
  return db.prepare('SELECT migration_name, finished_at FROM _prisma_migrations WHERE rolled_back_at IS NULL').all() as HistoryRow[]
}

const pendingIn = (rows: HistoryRow[], dir: string) => {
  const applied = new Set(rows.filter(row => row.finished_at !== null).map(row => row.migration_name))
  return migrationNames(dir).filter(name => !applied.has(name))
}

/** The migrations not yet recorded as applied in the database at `path`. */
export function pendingMigrations (path: string, dir = migrationsDir): string[] {
  if (!existsSync(path)) return migrationNames(dir)
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS })
  try {
    return pendingIn(history(db), dir)
  } finally {
    db.close()
  }
}

/**
 * Brings the database at `url` up to date, creating its folder and file if need be; returns the
 * names of the migrations it applied. Synchronous, like all of better-sqlite3: it is a few
 * milliseconds on an empty file, and nothing else may use the database before it is done.
 */
export function migrate (url: string, dir = migrationsDir): string[] {
  const path = fileOf(url)
  // The usual start: nothing pending, found without taking the write lock.
  if (pendingMigrations(path, dir).length === 0) return []
  mkdirSync(dirname(resolve(path)), { recursive: true })
  const created = !existsSync(path)
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS })
  try {
    // A new file starts in WAL, as the store sets it anyway (./database.ts): the commit is then
    // one write to the log rather than to the file and its journal. (Not a file of something
    // else, which is refused below and must be left as it was.)
    if (created) db.pragma('journal_mode = WAL')
    // Off for this connection, which nothing else uses: a migration that rebuilds a table drops
    // the old one, and with foreign keys on that drop would first delete, by cascade, the rows
    // that refer to it. SQLite ignores the pragma inside a transaction, where the migration's own
    // `PRAGMA foreign_keys=OFF` runs; the rows are checked after each migration instead.
    db.pragma('foreign_keys = OFF')
    return db.transaction(() => applyPending(db, dir)).immediate()
  } catch (err) {
    throw new Error(`could not migrate ${url}: ${(err as Error).message}`)
  } finally {
    db.close()
  }
}

/**
 * Applies the pending migrations in the caller's transaction, in order, each with its history
 * row; returns their names. One transaction for all: a database is at one version or the next,
 * never between, so the version of the service that ran on it before still can.
 */
function applyPending (db: Database.Database, dir: string): string[] {
  const rows = history(db)
  if (rows.length === 0) {
    // A database of something else: the migrations would write their tables beside its own.
    const objects = db.prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'").pluck().all() as string[]
    if (objects.length > 0) throw new Error(`the database is not empty (${objects.join(', ')}) and has no migration history: point DATABASE_URL at a new file or at this service's database`)
  }
  const failed = rows.find(row => row.finished_at === null)
  if (failed !== undefined) throw unfinishedMigration(failed.migration_name)
  const pending = pendingIn(rows, dir)
  db.exec(HISTORY)
  const record = db.prepare('INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, ?, ?, 1)')
  for (const name of pending) {
    const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8')
    const startedAt = isoText(Date.now())
    try {
      db.exec(sql)
    } catch (err) {
      throw new Error(`migration ${name} failed: ${(err as Error).message}`)
    }
    const broken = db.pragma('foreign_key_check') as Array<{ table: string, parent: string }>
    if (broken.length > 0) throw new Error(`migration ${name} failed: ${broken.length} rows of ${broken[0].table} refer to no row of ${broken[0].parent}`)
    record.run(randomUUID(), migrationChecksum(sql), isoText(Date.now()), name, startedAt)
  }
  return pending
}
