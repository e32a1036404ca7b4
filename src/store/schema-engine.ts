// Prisma's schema engine compiled to WebAssembly, driven through a driver adapter: better-sqlite3
// for a SQLite file, PGlite for PostgreSQL (through @prisma/adapter-pg it cannot read
// PostgreSQL's catalogue). A development tool: it writes the migrations (./create-migration.ts)
// and the tests check against it that the service applies them as Prisma does; the service
// itself applies them with its own driver (./migrate.ts, ./postgres-migrate.ts), without it.
// It needs neither the Prisma CLI nor a native engine download.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg'
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { migrationNames } from './migration-files.js'

export type SchemaEngine = glue.SchemaEngine

// @types/node does not declare WebAssembly (TypeScript's DOM lib does, which src/ leaves out);
// this is the one call made of it.
declare const WebAssembly: {
  instantiate (bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>
}

let loading: Promise<void> | undefined

// Importing a .wasm module is still experimental in Node 24 and warns at every start: instantiate
// it by hand, once per process.
function loadWasm (): Promise<void> {
  loading ??= (async () => {
    const gluePath = fileURLToPath(import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg'))
    const bytes = await readFile(gluePath.replace(/\.js$/, '.wasm'))
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': glue })
    glue.__wbg_set_wasm(instance.exports)
    ;(instance.exports.__wbindgen_start as () => void)()
  })()
  return loading
}

export async function withSchemaEngine<T> (
  database: string | SqlMigrationAwareDriverAdapterFactory,
  schemaPath: string,
  run: (engine: SchemaEngine) => Promise<T>
): Promise<T> {
  await loadWasm()
  const datamodel = await readFile(schemaPath, 'utf8')
  // engine.free() does not close the connections it opened; left open they keep SQLite locks.
  const factory = typeof database === 'string' ? new PrismaBetterSqlite3({ url: database }) : database
  const opened: Array<{ dispose: () => Promise<void> }> = []
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => { const a = await factory.connect(); opened.push(a); return a },
    connectToShadowDb: async () => { const a = await factory.connectToShadowDb(); opened.push(a); return a }
  }
  const engine = await glue.SchemaEngine.new(
    { datamodels: [[schemaPath, datamodel]] }, () => {}, bindMigrationAwareSqlAdapterFactory(tracked))
  try {
    return await run(engine)
  } finally {
    engine.free()
    await Promise.all(opened.map(a => a.dispose()))
  }
}

export const noFilters = { externalTables: [], externalEnums: [] }

/** The migrations of a folder, as the schema engine takes them. */
async function loadMigrationsList (dir: string) {
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

/** What `prisma migrate deploy` does with `dir`'s migrations; returns the names it applied. */
export async function applyMigrations (engine: SchemaEngine, dir: string): Promise<string[]> {
  const { appliedMigrationNames } = await engine.applyMigrations({
    migrationsList: await loadMigrationsList(dir),
    filters: noFilters
  })
  return appliedMigrationNames
}

