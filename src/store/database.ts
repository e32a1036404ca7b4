// The SQLite database: Prisma over @prisma/adapter-better-sqlite3, with transactions made
// exclusive and IMMEDIATE (./adapter.ts). ready() applies the migrations (./migrate.ts), then sets
// and checks the pragmas that durability and concurrency rest on.
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { Prisma, PrismaClient } from '../generated/prisma/client.js'
import { BUSY_TIMEOUT_MS, migrate } from './migrate.js'
import { exclusiveTransactions, type Connection } from './adapter.js'
import type { Change } from './read-cache.js'

/**
 * How often the read cache asks whether another process wrote: as often as the denylist's
 * periodic sync, so that what another process changed shows here as soon as its revocations do.
 */
export const CHANGES_POLL_MS = 1000

/** Prisma's client, or the transaction it hands to $transaction(): the store's modules take either. */
export type Db = PrismaClient | Prisma.TransactionClient

export function openDatabase (url: string) {
  // Dates as ISO text, the adapter's default, pinned: the raw statements read and compare them
  // as such (./rows.ts).
  const { adapter, connection } = exclusiveTransactions(new PrismaBetterSqlite3({ url, timeout: BUSY_TIMEOUT_MS }, { timestampFormat: 'iso8601' }))
  const prisma = new PrismaClient({ adapter })

  // Connected by the queries in ready(); Prisma reconnects with a new one after $disconnect().
  const connected = async () => {
    if (connection.current === undefined) await prisma.$connect()
    return connection.current as Connection
  }

  const shared: Connection = {
    immediate: (work) => connection.current?.immediate(work) ?? connected().then(own => own.immediate(work)),
    read: (work) => connection.current?.read(work) ?? connected().then(own => own.read(work))
  }

  return {
    prisma,
    /** Prisma's own connection, for the statements of the hot paths (./sqlite.ts). */
    connection: shared,

    /** Applies the migrations and checks the connection's settings; returns the migrations applied. */
    async ready (): Promise<string[]> {
      const applied = migrate(url)
      // WAL lets readers run beside the writer; synchronous=FULL makes every acknowledged commit
      // survive a power cut, not only a process crash; SQLite leaves foreign keys off unless asked.
      await prisma.$executeRawUnsafe('PRAGMA foreign_keys = ON')
      await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL')
      await prisma.$executeRawUnsafe('PRAGMA synchronous = FULL')
      const [{ journal_mode: journal }] = await prisma.$queryRawUnsafe<Array<{ journal_mode: string }>>('PRAGMA journal_mode')
      const [{ timeout }] = await prisma.$queryRawUnsafe<Array<{ timeout: bigint }>>('PRAGMA busy_timeout')
      if (journal !== 'wal' || Number(timeout) < BUSY_TIMEOUT_MS) {
        throw new Error(`SQLite at ${url} runs journal_mode=${journal} busy_timeout=${timeout}; wal and ${BUSY_TIMEOUT_MS} ms are required`)
      }
      return applied
    },

    /** True when the database answers a query. */
    async ping (): Promise<boolean> {
      await prisma.$queryRaw`SELECT 1`
      return true
    },

    /**
     * Tells `listener` when another connection, which is another process, has committed: SQLite
     * counts those (data_version), not what; asked every CHANGES_POLL_MS. Returns the stop.
     */
    watchChanges (listener: (change: Change) => void): () => void {
      let version: number | undefined
      const poll = async () => {
        try {
          const current = await shared.read(db => db.pragma('data_version', { simple: true }) as number)
          // The first answer, or a change: whatever was kept may be older than the database.
          if (current !== version) listener({ kind: 'reset', hearing: true })
          version = current
        } catch {
          version = undefined
          listener({ kind: 'reset', hearing: false })
        }
      }
      void poll()
      const timer = setInterval(() => { void poll() }, CHANGES_POLL_MS)
      timer.unref()
      return () => clearInterval(timer)
    },

    async close () {
      await prisma.$disconnect()
    }
  }
}

export type Database = ReturnType<typeof openDatabase>

/**
 * SQLITE_BUSY after the busy timeout, through Prisma or from a raw statement (which reports
 * extended codes such as SQLITE_BUSY_RECOVERY too): another process held the write lock that
 * long. Nothing was written; the client may retry.
 */
export function sqliteBusy (err: unknown): boolean {
  return (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P1008') ||
    String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY')
}
