// The PostgreSQL database: one pg pool, shared by Prisma (@prisma/adapter-pg) and the statements
// of the hot paths (./postgres.ts). Migrations run in ready(), under an advisory lock
// (./postgres-migrate.ts): PostgreSQL's I/O does not hold the event loop, so no worker is needed.
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/postgres/client.js'
import { migratePostgres } from './postgres-migrate.js'
import { DatabaseStartError } from './engine.js'
import { createDenylistFeed } from './postgres-feed.js'

export interface PostgresOptions {
  /** Connections in the pool. */
  poolMax: number
  /** Milliseconds a statement may run before PostgreSQL cancels it. */
  statementTimeoutMs: number
  /** Milliseconds to wait for a connection, new or from the pool, before giving up. */
  connectTimeoutMs: number
}

/** A URL's user:password@, which no message may show. */
export const withoutPassword = (url: string) => url.replace(/\/\/([^/@:\s]*)(:[^/@\s]*)?@/, (_, user: string) => `//${user}@`)

export function openPostgres (url: string, options: PostgresOptions) {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    // A transaction left open by a client that went away must not hold its locks for ever.
    idle_in_transaction_session_timeout: Math.max(options.statementTimeoutMs * 2, 10_000),
    application_name: 'authd'
  })
  // An idle connection the server closed (a restart): the pool drops it and connects anew when
  // asked; the request that finds the database down gets a 503. Without a listener it would
  // crash the process.
  pool.on('error', () => {})
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  const feed = createDenylistFeed(url, options.connectTimeoutMs)

  return {
    pool,
    prisma,
    watchDenylist: feed.watch,

    /** Applies the migrations; returns their names. */
    async ready (): Promise<string[]> {
      // pg's messages never carry the URL; these name where it could not go, without the password.
      let client: pg.PoolClient
      try {
        client = await pool.connect()
      } catch (err) {
        throw new DatabaseStartError(`DATABASE_URL: cannot connect to PostgreSQL at ${withoutPassword(url)}: ${describe(err)}`)
      }
      try {
        return await migratePostgres(client)
      } catch (err) {
        throw new DatabaseStartError(`DATABASE_URL: could not migrate the PostgreSQL database at ${withoutPassword(url)}: ${describe(err)}`)
      } finally {
        client.release()
      }
    },

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

// Codes for a server that cannot be reached, went away or refuses connections for now: the
// system's, and PostgreSQL's class 08, 57P01-57P03 (shutting down, crashed, starting up), 53300
// (too many connections) and 3D000 (no such database).
const UNREACHABLE = /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|08\w{3}|57P0[123]|53300|3D000)$/
// pg's own errors carry no code; a database closed to connections (ALLOW_CONNECTIONS false) has
// a code (55000) that means other things too.
const UNREACHABLE_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)|is not currently accepting connections/

/**
 * The database cannot be reached or went away: the pool connects anew on the next query, so the
 * client may retry. Looks through Prisma's wrapping (P1001 unreachable, P1017 connection closed,
 * P2024 no connection in time, or the driver's error as `cause`).
 */
export function databaseUnavailable (err: unknown): boolean {
  for (let e = err as { code?: unknown, message?: unknown, cause?: unknown } | undefined, depth = 0; e != null && depth < 4; e = e.cause as typeof e, depth++) {
    const code = String(e.code)
    if (code === 'P1001' || code === 'P1017' || code === 'P2024' || UNREACHABLE.test(code)) return true
    if (typeof e.message === 'string' && UNREACHABLE_MESSAGE.test(e.message)) return true
  }
  return false
}

function someCause (err: unknown, test: (code: string) => boolean): boolean {
  for (let e = err as { code?: unknown, cause?: unknown } | undefined, depth = 0; e != null && depth < 4; e = e.cause as typeof e, depth++) {
    if (test(String(e.code))) return true
  }
  return false
}

/**
 * A serializable transaction lost to a concurrent one (40001), or a deadlock (40P01); Prisma
 * reports both as P2034. Nothing was written: the transaction may run again.
 */
export const serializationFailure = (err: unknown) => someCause(err, code => code === 'P2034' || code === '40001' || code === '40P01')

/**
 * PostgreSQL is busy: a statement ran past the statement timeout (57014), a lock could not be
 * had (55P03), or a transaction kept losing to concurrent ones.
 */
export const postgresBusy = (err: unknown) => serializationFailure(err) || someCause(err, code => code === '57014' || code === '55P03')
