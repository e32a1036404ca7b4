// Prisma over SQLite through @prisma/adapter-better-sqlite3, with transactions made exclusive and
// IMMEDIATE (src/db/adapter.ts). On start: create the database folder, apply pending migrations,
// then set and check the pragmas that durability and concurrency rest on. Decorates `app.prisma`.
//
// Migrations run on a worker thread (src/db/migrate.ts) while the app loads; the database is used
// from onReady on, once they are applied (plugins/app/revocation.ts waits the same way).
import fp from 'fastify-plugin'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '../../generated/prisma/client.js'
import { migrateOnWorker } from '../../db/migrate.js'
import { exclusiveTransactions, type Connection } from '../../db/adapter.js'

declare module 'fastify' {
  interface FastifyInstance {
    prisma: PrismaClient
    /** Prisma's own SQLite connection, for the few hot paths written as raw statements. */
    sqlite: Connection
  }
}

/** How long a write waits for another process's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000

export default fp(async function prisma (app) {
  const url = app.config.DATABASE_URL
  const migrated = migrateOnWorker(url)
  // Awaited in onReady, or by onClose if the app closes first: never left to write alone.
  const settled = migrated.then(() => {}, () => {})

  // Dates as ISO text, the adapter's default, pinned: the raw statements (sessions, revocation)
  // read them with Date.parse.
  const { adapter, connection } = exclusiveTransactions(new PrismaBetterSqlite3({ url, timeout: BUSY_TIMEOUT_MS }, { timestampFormat: 'iso8601' }))
  const client = new PrismaClient({ adapter })
  app.decorate('prisma', client)
  app.addHook('onClose', async () => {
    await settled
    await client.$disconnect()
  })

  app.addHook('onReady', async () => {
    const applied = await migrated
    if (applied.length > 0) app.log.info({ migrations: applied }, 'database migrated')
    // WAL lets readers run beside the writer; synchronous=FULL makes every acknowledged commit
    // survive a power cut, not only a process crash; SQLite leaves foreign keys off unless asked.
    await client.$executeRawUnsafe('PRAGMA foreign_keys = ON')
    await client.$queryRawUnsafe('PRAGMA journal_mode = WAL')
    await client.$executeRawUnsafe('PRAGMA synchronous = FULL')
    const [{ journal_mode: journal }] = await client.$queryRawUnsafe<Array<{ journal_mode: string }>>('PRAGMA journal_mode')
    const [{ timeout }] = await client.$queryRawUnsafe<Array<{ timeout: bigint }>>('PRAGMA busy_timeout')
    if (journal !== 'wal' || Number(timeout) < BUSY_TIMEOUT_MS) {
      throw new Error(`SQLite at ${url} runs journal_mode=${journal} busy_timeout=${timeout}; wal and ${BUSY_TIMEOUT_MS} ms are required`)
    }
  })
  // Connected by the queries in onReady; Prisma reconnects with a new one after $disconnect().
  const connected = async () => {
    if (connection.current === undefined) await client.$connect()
    return connection.current as Connection
  }
  app.decorate('sqlite', {
    immediate: async (work) => await (await connected()).immediate(work),
    read: async (work) => await (await connected()).read(work)
  } satisfies Connection)
}, { name: 'prisma' })
