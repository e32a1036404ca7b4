// Prisma's schema engine compiled to WebAssembly, driven through a driver adapter: better-sqlite3
// for the service's SQLite database, PGlite for authoring and checking the PostgreSQL migrations
// (through @prisma/adapter-pg it cannot read PostgreSQL's catalogue). On SQLite it writes the same
// `_prisma_migrations` history as `prisma migrate deploy`, but needs neither the Prisma CLI nor a
// native engine download, so the production image can migrate on start.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg'
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'

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
