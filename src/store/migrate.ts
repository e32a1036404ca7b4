// Applies prisma/migrations/*/migration.sql in order, recording them in `_prisma_migrations`
// exactly as `prisma migrate deploy` would. Idempotent: applied migrations are skipped.
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { migrateWorker, prismaDir } from '../paths.js'
import type { SchemaEngine } from './schema-engine.js'
import { isPostgresUrl } from './engine.js'

export const schemaPath = join(prismaDir, 'schema.prisma')
export const migrationsDir = join(prismaDir, 'migrations')

const noFilters = { externalTables: [], externalEnums: [] }

/** The database file of a `file:` URL. */
const fileOf = (url: string) => url.slice('file:'.length)

function migrationNames (dir = migrationsDir): string[] {
  const entries = readdirSync(dir, { withFileTypes: true })
  return entries.filter(e => e.isDirectory()).map(e => e.name).sort()
}

/** The migrations of a folder (SQLite's by default), as the schema engine takes them. */
export async function loadMigrationsList (dir = migrationsDir) {
  const migrationDirectories = await Promise.all(migrationNames(dir).map(async path => ({
    path,
    migrationFile: {
      path: 'migration.sql',
      content: { tag: 'ok' as const, value: await readFile(join(dir, path, 'migration.sql'), 'utf8') }
    }
  })))
  const lockPath = 'migration_lock.toml'
  return {
    baseDir: dir,
    lockfile: { path: lockPath, content: await readFile(join(dir, lockPath), 'utf8') },
    shadowDbInitScript: '',
    migrationDirectories
  }
}

export async function applyMigrations (engine: SchemaEngine, dir = migrationsDir): Promise<string[]> {
  const { appliedMigrationNames } = await engine.applyMigrations({
    migrationsList: await loadMigrationsList(dir),
    filters: noFilters
  })
  return appliedMigrationNames
}

/**
 * The migrations not yet recorded as applied in the database at `path`. Synchronous, like all
 * of better-sqlite3: migrateEarly() must start its worker before the app's loading takes the
 * event loop.
 */
export function pendingMigrations (path: string): string[] {
  const names = migrationNames()
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
  if (pendingMigrations(fileOf(url)).length === 0) return []
  try {
    // Loaded only then: a restart on an up-to-date database does without it.
    const { withSchemaEngine } = await import('./schema-engine.js')
    return await withSchemaEngine(url, schemaPath, applyMigrations)
  } catch (err) {
    throw new Error(`could not migrate ${url}; if another process has it open, stop it and start again (${(err as Error).message.split('\n')[0]})`)
  }
}

const early = new Map<string, Promise<string[]>>()
const running = new Set<Promise<unknown>>()

/**
 * Creates the database's folder, then runs migrate(url) on a worker thread (./migrate-worker.ts)
 * if anything is pending: the schema engine's WebAssembly and its writes then take another core
 * while this one loads the app. Returns the run that migrateEarly() started for `url`, if any.
 */
export async function migrateOnWorker (url: string): Promise<string[]> {
  const started = early.get(url)
  if (started !== undefined) {
    early.delete(url)
    return await started
  }
  const path = fileOf(url)
  mkdirSync(dirname(resolve(path)), { recursive: true })
  if (pendingMigrations(path).length === 0) return []
  const run = new Promise<string[]>((resolve, reject) => {
    const worker = new Worker(migrateWorker, { workerData: url })
    worker.once('message', resolve)
    worker.once('error', reject)
    worker.once('exit', code => reject(new Error(`the migration worker exited with code ${code}`)))
  })
  running.add(run)
  run.then(() => running.delete(run), () => running.delete(run))
  return await run
}

/**
 * Starts migrateOnWorker(url) before the app is even loaded (server.ts), for the store to take:
 * the schema engine's work then runs on another core beside the app's loading, instead of
 * before it.
 */
export function migrateEarly (url: string): void {
  // PostgreSQL migrates in the store's ready(), over the network: nothing to start early.
  if (isPostgresUrl(url)) return
  const run = migrateOnWorker(url)
  // Reported by the plugin that takes it.
  run.catch(() => {})
  early.set(url, run)
}

/**
 * Settles once no migration this process started is still running. A SQLite migration is not
 * one transaction: a process that exits in the middle of one (a start that failed elsewhere)
 * would leave the database half migrated, so it waits for this first.
 */
export async function migrationsSettled (): Promise<void> {
  await Promise.allSettled([...running])
}

export { noFilters }
