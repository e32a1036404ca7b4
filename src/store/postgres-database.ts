// The PostgreSQL database: one pg pool, shared by Prisma (@prisma/adapter-pg) and the statements
// of the hot paths (./postgres.ts). Migrations run in ready(), under an advisory lock
// (./postgres-migrate.ts): PostgreSQL's I/O does not hold the event loop, so no worker is needed.
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/postgres/client.js'
import { migratePostgres } from './postgres-migrate.js'
import { DatabaseStartError, withoutPassword } from './engine.js'
import { CHANGES_CHANNEL, DENYLIST_CHANNEL, createFeed, toChange } from './postgres-feed.js'
import type { Change } from './read-cache.js'

export interface PostgresOptions {
  /** Connections in the pool. */
  poolMax: number
  /** Milliseconds a statement may run before PostgreSQL cancels it. */
  statementTimeoutMs: number
  /** Milliseconds to wait for a connection, new or from the pool, before giving up. */
  connectTimeoutMs: number
}

export interface PoolStats { total: number, idle: number, waiting: number }

export function openPostgres (url: string, options: PostgresOptions) {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    // A transaction left open by a client that went away must not hold its locks for ever.
    idle_in_transaction_session_timeout: Math.max(options.statementTimeoutMs * 2, 10_000),
    application_name: 'authd',
    // The columns are timestamps without a zone, holding UTC: a session in another zone would
    // read now() and the like shifted.
    options: '-c TimeZone=UTC -c DateStyle=ISO'
  })
  // An idle connection the server closed (a restart): the pool drops it and connects anew when
  // asked; the request that finds the database down gets a 503. Without a listener it would
  // crash the process.
  pool.on('error', () => {})
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  const feed = createFeed(url, options.connectTimeoutMs)

  return {
    pool,
    prisma,
    /** Calls `listener` soon after another instance adds denylist rows, and after each reconnection. */
    watchDenylist: (listener: () => void) => feed.watch(DENYLIST_CHANNEL, event => { if (event !== 'lost') listener() }),
    /** Tells `listener` whose user or sessions changed, whoever changed them (the triggers of read_cache_feed). */
    watchChanges: (listener: (change: Change) => void) => feed.watch(CHANGES_CHANNEL, event => listener(toChange(event))),

    /** Applies the migrations; returns their names. */
    async ready (): Promise<string[]> {
      // pg's messages never carry the URL; these name where it could not go, without the password.
      let client: pg.PoolClient
      try {
        client = await pool.connect()
      } catch (err) {
        throw new DatabaseStartError(`DATABASE_URL: cannot connect to PostgreSQL at ${withoutPassword(url)}: ${describe(err)}`)
      }
      let failed: Error | undefined
      try {
        return await migratePostgres(client)
      } catch (err) {
        failed = err as Error
        throw new DatabaseStartError(`DATABASE_URL: could not migrate the PostgreSQL database at ${withoutPassword(url)}: ${describe(err)}`)
      } finally {
        // After a failure the connection may still hold the migration lock, or a transaction: closed.
        client.release(failed)
      }
    },

    /** The pool's connections now: open, idle, and requests waiting for one. */
    poolStats: (): PoolStats => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),

    async ping (): Promise<boolean> {
      await pool.query('SELECT 1')
      return true
    },

    async close () {
      await feed.close()
      await prisma.$disconnect()
      await pool.end()
    }
  }
}

// pg's connection errors may be an AggregateError (one per address tried) with an empty message.
function describe (err: unknown): string {
  const { message, code, errors } = err as { message?: string, code?: string, errors?: unknown[] }
  if (message !== undefined && message !== '') return message
  if (errors !== undefined && errors.length > 0) return describe(errors[0])
  return code ?? String(err)
}
