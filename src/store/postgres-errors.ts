// What a failure from PostgreSQL means for the client: the database is unreachable (503
// database_unavailable), busy (503 database_busy), or a serializable transaction lost to another
// and may run again. The codes hide at different depths: pg's own errors carry them as `code`;
// Prisma wraps them in its P-codes, or in a DriverAdapterError whose `cause` has `originalCode`
// and a `kind`, or keeps the driver's error in `meta.driverAdapterError`.

interface Layer { code?: unknown, originalCode?: unknown, kind?: unknown, message?: unknown, cause?: unknown, meta?: { driverAdapterError?: unknown }, errors?: unknown[] }

/** Every code, kind and message of the error and of what it wraps. */
function * facts (err: unknown, depth = 0): Generator<string> {
  if (err == null || typeof err !== 'object' || depth > 5) return
  const e = err as Layer
  for (const value of [e.code, e.originalCode, e.kind, e.message]) if (typeof value === 'string') yield value
  yield * facts(e.cause, depth + 1)
  yield * facts(e.meta?.driverAdapterError, depth + 1)
  // (An AggregateError: one connection error per address tried.)
  if (Array.isArray(e.errors)) yield * facts(e.errors[0], depth + 1)
}

const some = (err: unknown, test: RegExp) => { for (const fact of facts(err)) if (test.test(fact)) return true; return false }

// The system's codes, PostgreSQL's class 08 and 57P01-57P03 (shutting down, crashed, starting up),
// 53300 (too many connections), 3D000 (no such database); Prisma's P1001 (unreachable), P1017
// (connection closed), P2024 (no connection in time), P2037 (too many connections); pg's messages,
// which carry no code; and a database closed to connections (whose code, 55000, means other
// things too).
const UNREACHABLE = new RegExp([
  '^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|08\\w{3}|57P0[123]|53300|3D000)$',
  '^(P1001|P1017|P2024|P2037|DatabaseNotReachable|ConnectionClosed|TooManyConnections|DatabaseDoesNotExist)$',
  '^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)',
  'is not currently accepting connections'
].join('|'))

/** The database cannot be reached or went away: the pool connects anew, so the client may retry. */
export const databaseUnavailable = (err: unknown) => some(err, UNREACHABLE)

/**
 * A serializable transaction lost to a concurrent one (40001), or a deadlock (40P01), whether at
 * a statement or at COMMIT (Prisma's P2034, TransactionWriteConflict). Nothing was written: the
 * transaction may run again.
 */
export const serializationFailure = (err: unknown) => some(err, /^(40001|40P01|P2034|TransactionWriteConflict)$/)

/**
 * PostgreSQL is busy: a statement ran past the statement timeout (57014), a lock could not be had
 * (55P03), a transaction could not start or finish in time (P2028), or kept losing to others.
 */
export const postgresBusy = (err: unknown) => serializationFailure(err) || some(err, /^(57014|55P03|P2028)$/)
