// The hot paths on PostgreSQL, as statements on the pool Prisma shares (./postgres-database.ts):
// the same contract as ./sqlite.ts, each in as few round trips as PostgreSQL allows. Named
// statements are prepared once per connection.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { toSession, toSessionSummary, toUser, toUserSummary, type SessionRow, type SessionSummaryRow, type UserRow, type UserSummaryRow } from './rows.js'
import type { DenyEntry, OutboxMessage, RotationClaim, RotationFacts, Session, SessionSummary, User, UserSummary } from './records.js'
import type { FastPaths } from './sqlite.js'
import type { UserFilter } from './users.js'

// The columns are `timestamp(3)` in UTC (Prisma's mapping) and pg would read them as local time:
// they come back as ISO text in UTC instead, the form ./rows.ts converts. Rows inside JSON have
// the same text, 'T' included, without the zone.
const TIMESTAMP = 1114
const utcText = (text: string) => text.replace(' ', 'T') + 'Z'
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMP ? utcText : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser
}
const at = (ms: number) => new Date(ms).toISOString()

// A user's roles, space-separated, for a row `u` of "User".
const ROLES_OF_U = `(SELECT string_agg(role, ' ') FROM "UserRole" WHERE "userId" = u.id)`
const ROLES = `${ROLES_OF_U} AS roles`
/** The user `id` as JSON, its roles in it; `id` an expression (a parameter, a column). */
const userJson = (id: string) => `(SELECT to_jsonb(u) || jsonb_build_object('roles', ${ROLES_OF_U}) FROM "User" u WHERE u.id = ${id})`

const jsonUser = (row: UserRow | null): User | null => row === null
  ? null
  : toUser({ ...row, createdAt: utcText(row.createdAt), updatedAt: utcText(row.updatedAt) })
const jsonSession = (row: SessionRow | null): Session | null => row === null
  ? null
  : toSession({
    ...row,
    createdAt: utcText(row.createdAt),
    lastUsedAt: utcText(row.lastUsedAt),
    expiresAt: utcText(row.expiresAt),
    revokedAt: row.revokedAt === null ? null : utcText(row.revokedAt)
  })

const PAGE_FILTERS = [
  ['after', (n: number) => `("createdAt" > $${n} OR ("createdAt" = $${n} AND id > $${n + 1}))`, 2],
  // starts_with() is exact under any collation, where a range of text would follow the database's.
  ['usernamePrefix', (n: number) => `starts_with(username, $${n})`, 1],
  ['emailPrefix', (n: number) => `starts_with(email, $${n})`, 1],
  ['role', (n: number) => `EXISTS (SELECT 1 FROM "UserRole" WHERE "userId" = u.id AND role = $${n})`, 1],
  ['disabled', (n: number) => `disabled = $${n}`, 1]
] as const

function pageQuery (filter: UserFilter): pg.QueryConfig {
  let key = 0
  const conditions: string[] = []
  const values: unknown[] = []
  PAGE_FILTERS.forEach(([name, condition], bit) => {
    const value = filter[name]
    if (value === undefined) return
    key |= 1 << bit
    conditions.push(condition(values.length + 1))
    if (name === 'after') {
      const { createdAt, id } = value as NonNullable<UserFilter['after']>
      values.push(createdAt.toISOString(), id)
    } else {
      values.push(name === 'usernamePrefix' || name === 'emailPrefix' ? (value as string).toLowerCase() : value)
    }
  })
  const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`
  return {
    name: `authd_users_${key}`,
    text: `SELECT id, username, email, "emailVerified", disabled, "createdAt", "updatedAt", ${ROLES} FROM "User" u${where} ORDER BY "createdAt", id LIMIT $${values.length + 1}`,
    values: [...values, filter.limit]
  }
}

interface TokenRow { id: string, sessionId: string, expiresAt: string, usedAt: string | null, successor: string | null, session: SessionRow, user: UserRow }
interface DeniedRow { seq: number, kind: DenyEntry['kind'], value: string, expiresAt: string, issuedBefore: string | null, young: boolean }

// Rows of the denylist become visible in the order their transactions commit, which is not the
// order of their `seq`: a gap below a new row may still be filled by a transaction in flight.
// The cursor stops before such a gap until it is this old; a gap older than that is a rollback or
// a deleted row, never to be filled. (Entries read twice are harmless: remembering is idempotent.)
const GAP_WAIT_MS = 30_000

// The advisory lock of the purge (next to the one of the migrations, ./postgres-migrate.ts).
export const PURGE_LOCK = 72707370

/**
 * Runs `work` in a transaction on a connection of its own. A connection whose ROLLBACK failed
 * may still be inside the transaction: it is closed, not reused. While the connection is out of
 * the pool no one else listens for its errors, and an error event without a listener (the server
 * ending the connection between two statements) would end the process: the statement that
 * follows fails instead, and the request with it.
 */
async function inTransaction<T> (pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  const ignore = () => {}
  client.on('error', ignore)
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch((rollback: Error) => { broken = rollback })
    throw err
  } finally {
    client.off('error', ignore)
    client.release(broken)
  }
}

export function createPostgresPaths (pool: pg.Pool) {
  return {
    user: async (id: string): Promise<User | null> => {
      const { rows } = await pool.query<UserRow>({ name: 'authd_user', text: `SELECT u.*, ${ROLES} FROM "User" u WHERE id = $1`, values: [id], types })
      return rows.length === 0 ? null : toUser(rows[0])
    },

    listUsers: async (filter: UserFilter): Promise<UserSummary[]> =>
      (await pool.query<UserSummaryRow>({ ...pageQuery(filter), types })).rows.map(toUserSummary),

    /** A user and a session, read together in one round trip. */
    userAndSession: async (userId: string, sessionId: string) => {
      const { rows: [row] } = await pool.query<{ user: UserRow | null, session: SessionRow | null }>({
        name: 'authd_user_and_session',
        text: `SELECT ${userJson('$1')} AS user, (SELECT to_jsonb(s) FROM "Session" s WHERE s.id = $2) AS session`,
        values: [userId, sessionId]
      })
      return { user: jsonUser(row.user), session: jsonSession(row.session) }
    },

    liveSessions: async (userId: string, now: number): Promise<SessionSummary[]> => (await pool.query<SessionSummaryRow>({
      name: 'authd_live_sessions',
      text: 'SELECT id, "createdAt", "lastUsedAt", "expiresAt", "userAgent", ip FROM "Session" WHERE "userId" = $1 AND "revokedAt" IS NULL AND "expiresAt" > $2 ORDER BY "lastUsedAt" DESC',
      values: [userId, at(now)],
      types
    })).rows.map(toSessionSummary),

    /**
     * One rotation, as on SQLite: the token's row is locked (FOR UPDATE) from the read to the
     * commit, so concurrent rotations of one token, from any instance, run one after the other
     * and only the first finds it unused.
     */
    rotate: <T>(hash: string, decide: (facts: RotationFacts | undefined) => { result: T, claim?: RotationClaim }): Promise<T> => inTransaction(pool, async client => {
      const { rows: [row] } = await client.query<TokenRow>({
        name: 'authd_rotation_read',
        text: `SELECT t.id, t."sessionId", t."expiresAt", t."usedAt", t.successor, to_jsonb(s) AS session, ${userJson('s."userId"')} AS user
          FROM "RefreshToken" t JOIN "Session" s ON s.id = t."sessionId" WHERE t.hash = $1 FOR UPDATE OF t`,
        values: [hash],
        types
      })
      let facts: RotationFacts | undefined
      if (row !== undefined) {
        const token = { id: row.id, sessionId: row.sessionId, successor: row.successor, expiresAt: new Date(row.expiresAt), usedAt: row.usedAt === null ? null : new Date(row.usedAt) }
        facts = { token, session: jsonSession(row.session) as Session, user: jsonUser(row.user) as User }
      }
      const { result, claim } = decide(facts)
      if (claim !== undefined && facts !== undefined) {
        await client.query({
          name: 'authd_rotation_claim',
          text: `WITH claimed AS (UPDATE "RefreshToken" SET "usedAt" = $1, successor = $2 WHERE id = $3 AND "usedAt" IS NULL RETURNING "sessionId"),
            successor AS (INSERT INTO "RefreshToken" (id, hash, "sessionId", "createdAt", "expiresAt") SELECT $4, $5, "sessionId", $1, $6 FROM claimed)
            UPDATE "Session" SET "lastUsedAt" = $1 WHERE id IN (SELECT "sessionId" FROM claimed)`,
          values: [at(claim.at), claim.sealedSuccessor, facts.token.id, randomUUID(), claim.successorHash, at(claim.successorExpiresAt)]
        })
      }
      return result
    }),

    /** The denylist entries written after `cursor` (0 for all), and the cursor to read from next. */
    deniedSince: async (cursor: number) => {
      const { rows } = await pool.query<DeniedRow>({
        name: 'authd_denied_since',
        // (createdAt is written by Prisma from the writer's clock: compared with a time of this
        // process's clock, not the database's now(), which may run in another zone or be off.)
        text: `SELECT seq, kind, value, "expiresAt", "issuedBefore", "createdAt" > $2 AS young
          FROM "DeniedToken" WHERE seq > $1 ORDER BY seq`,
        values: [cursor, at(Date.now() - GAP_WAIT_MS)],
        types
      })
      let next = cursor
      for (const row of rows) {
        if (row.seq !== next + 1 && row.young) break
        next = row.seq
      }
      const entries = rows.map(({ kind, value, expiresAt, issuedBefore }): DenyEntry => kind === 'sid_before' || kind === 'client_before'
        ? { kind, value, expiresAt: Date.parse(expiresAt), issuedBefore: Date.parse(issuedBefore as string) }
        : { kind, value, expiresAt: Date.parse(expiresAt) })
      return { entries, cursor: next }
    },

    /**
     * As on SQLite. Concurrent takes of one key wait for each other on an advisory lock of the
     * key, then count what the one before committed (READ COMMITTED: each statement sees what
     * was committed when it began). Serializable, they would fail and retry instead, over and
     * over in a brute-force burst.
     */
    takeAttempt: (key: string, limit: number, since: number, atMs: number): Promise<{ id: string } | { oldest: Date }> => inTransaction(pool, async client => {
      await client.query({ name: 'authd_attempt_lock', text: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', values: [key] })
      const { rows } = await client.query<{ at: string }>({
        name: 'authd_attempts',
        text: 'SELECT at FROM "PasswordAttempt" WHERE key = $1 AND at > $2 ORDER BY at LIMIT $3',
        values: [key, at(since), limit],
        types
      })
      let result: { id: string } | { oldest: Date }
      if (rows.length >= limit) {
        result = { oldest: new Date(rows[0].at) }
      } else {
        result = { id: randomUUID() }
        await client.query({ name: 'authd_attempt_insert', text: 'INSERT INTO "PasswordAttempt" (id, key, at) VALUES ($1, $2, $3)', values: [result.id, key, at(atMs)] })
      }
      return result
    }),

    /**
     * As on SQLite, in one statement. SKIP LOCKED: a message another sender is taking at this
     * moment is passed over, where READ COMMITTED would wait for it and then take it again.
     */
    takeMail: async (now: number, until: number, limit: number): Promise<OutboxMessage[]> => {
      const { rows } = await pool.query<Omit<OutboxMessage, 'expiresAt'> & { expiresAt: string }>({
        name: 'authd_take_mail',
        text: `UPDATE "MailMessage" m SET "lockedUntil" = $1, attempts = m.attempts + 1
          FROM (SELECT id FROM "MailMessage" WHERE "nextAttemptAt" <= $2 AND ("lockedUntil" IS NULL OR "lockedUntil" <= $2)
                ORDER BY "nextAttemptAt" LIMIT $3 FOR UPDATE SKIP LOCKED) due
          WHERE m.id = due.id RETURNING m.id, m.kind, m.sealed, m."expiresAt", m.attempts`,
        values: [at(until), at(now), limit],
        types
      })
      return rows.map(row => ({ ...row, expiresAt: new Date(row.expiresAt) }))
    },

    /**
     * As on SQLite, in one transaction. Instances purging at the same moment would delete the
     * same rows and wait on each other's locks: the one that holds the purge lock does it, the
     * others skip this round (0).
     */
    purge: (now: number, sessionsBefore: number): Promise<number> => inTransaction(pool, async client => {
      const { rows: [{ locked }] } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [PURGE_LOCK])
      let count = 0
      if (locked) {
        count += (await client.query('DELETE FROM "DeniedToken" WHERE "expiresAt" <= $1', [at(now)])).rowCount ?? 0
        count += (await client.query('DELETE FROM "RefreshToken" WHERE "expiresAt" <= $1', [at(now)])).rowCount ?? 0
        count += (await client.query('DELETE FROM "Session" WHERE "expiresAt" <= $1 OR "revokedAt" <= $1', [at(sessionsBefore)])).rowCount ?? 0
      }
      return count
    })
  } satisfies FastPaths
}
