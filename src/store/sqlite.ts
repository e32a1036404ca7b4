// The hot paths on SQLite, as prepared statements on Prisma's own connection: the reads of every
// signed-in request, the refresh rotation, the denylist's sync and the purge. Through Prisma each
// query costs more than the rest of the request; these are the same SQL without that per-query
// work. Like Prisma's queries, they wait for an open transaction to end (./adapter.ts).
import { randomUUID } from 'node:crypto'
import type { Database, Statement } from 'better-sqlite3'
import { perConnection, type Connection } from './adapter.js'
import { isoText, toSession, toSessionSummary, toUser, toUserSummary, type SessionRow, type SessionSummaryRow, type UserRow, type UserSummaryRow } from './rows.js'
import type { DenyEntry, OutboxMessage, RotationClaim, RotationFacts, Session, SessionSummary, User, UserSummary } from './records.js'
import type { UserFilter } from './users.js'

// A user's roles ride along in one column: one statement, one read of the index, for both.
// (group_concat promises no order: ./rows.ts sorts them.)
const ROLES = "(SELECT group_concat(role, ' ') FROM UserRole WHERE userId = User.id) AS roles"
const USER = `SELECT *, ${ROLES} FROM User`
const USER_SUMMARY = `SELECT id, username, email, emailVerified, disabled, createdAt, updatedAt, ${ROLES} FROM User`

const statementsFor = perConnection((db: Database) => ({
  user: db.prepare(`${USER} WHERE id = ?`),
  session: db.prepare('SELECT * FROM Session WHERE id = ?'),
  // Sorted here rather than by SQLite, which would build a temporary B-tree for a dozen rows.
  liveSessions: db.prepare('SELECT id, createdAt, lastUsedAt, expiresAt, userAgent, ip FROM Session WHERE userId = ? AND revokedAt IS NULL AND expiresAt > ?'),
  token: db.prepare('SELECT id, sessionId, expiresAt, usedAt, successor FROM RefreshToken WHERE hash = ?'),
  claim: db.prepare('UPDATE RefreshToken SET usedAt = ?, successor = ? WHERE id = ? AND usedAt IS NULL'),
  insertToken: db.prepare('INSERT INTO RefreshToken (id, hash, sessionId, createdAt, expiresAt) VALUES (?, ?, ?, ?, ?)'),
  touch: db.prepare('UPDATE Session SET lastUsedAt = ? WHERE id = ?'),
  denied: db.prepare('SELECT seq, kind, value, expiresAt, issuedBefore FROM DeniedToken WHERE seq > ? ORDER BY seq').raw(),
  purgeDenied: db.prepare('DELETE FROM DeniedToken WHERE expiresAt <= ?'),
  purgeTokens: db.prepare('DELETE FROM RefreshToken WHERE expiresAt <= ?'),
  purgeSessions: db.prepare('DELETE FROM Session WHERE expiresAt <= ? OR revokedAt <= ?'),
  attempts: db.prepare('SELECT at FROM PasswordAttempt WHERE key = ? AND at > ? ORDER BY at LIMIT ?').pluck(),
  insertAttempt: db.prepare('INSERT INTO PasswordAttempt (id, key, at) VALUES (?, ?, ?)'),
  takeMail: db.prepare(`UPDATE MailMessage SET lockedUntil = ?, attempts = attempts + 1
    WHERE id IN (SELECT id FROM MailMessage WHERE nextAttemptAt <= ? AND (lockedUntil IS NULL OR lockedUntil <= ?) ORDER BY nextAttemptAt LIMIT ?)
    RETURNING id, kind, sealed, expiresAt, attempts`)
}))

// A page of users: one statement for each combination of filters, prepared on first use.
const PAGE_FILTERS = [
  ['after', '(createdAt > ? OR (createdAt = ? AND id > ?))'],
  ['usernamePrefix', 'username >= ? AND username < ?'],
  ['emailPrefix', 'email >= ? AND email < ?'],
  ['role', 'EXISTS (SELECT 1 FROM UserRole WHERE userId = User.id AND role = ?)'],
  ['disabled', 'disabled = ?']
] as const
const pageStatements = perConnection(() => new Map<number, Statement>())

function pageStatement (db: Database, filter: UserFilter): { statement: Statement, args: unknown[] } {
  let key = 0
  const conditions: string[] = []
  const args: unknown[] = []
  PAGE_FILTERS.forEach(([name, condition], bit) => {
    const value = filter[name]
    if (value === undefined) return
    key |= 1 << bit
    conditions.push(condition)
    if (name === 'after') {
      const { createdAt, id } = value as NonNullable<UserFilter['after']>
      args.push(isoText(createdAt.getTime()), isoText(createdAt.getTime()), id)
    } else if (name === 'usernamePrefix' || name === 'emailPrefix') {
      // A prefix as a range, not LIKE (which would read _ and % as wildcards); the range also uses the index.
      const start = (value as string).toLowerCase()
      args.push(start, start + '\u{10FFFF}')
    } else {
      args.push(name === 'disabled' ? Number(value) : value)
    }
  })
  const cache = pageStatements(db)
  let statement = cache.get(key)
  if (statement === undefined) {
    const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`
    cache.set(key, statement = db.prepare(`${USER_SUMMARY}${where} ORDER BY createdAt, id LIMIT ?`))
  }
  return { statement, args: [...args, filter.limit] }
}

interface TokenRow { id: string, sessionId: string, expiresAt: string, usedAt: string | null, successor: string | null }
type DeniedRow = [seq: bigint, kind: DenyEntry['kind'], value: string, expiresAt: string, issuedBefore: string | null]

function readUser (db: Database, id: string): User | null {
  const row = statementsFor(db).user.get(id) as UserRow | undefined
  return row === undefined ? null : toUser(row)
}

function readSession (db: Database, id: string): Session | null {
  const row = statementsFor(db).session.get(id) as SessionRow | undefined
  return row === undefined ? null : toSession(row)
}

export function createSqlitePaths (connection: Connection) {
  return {
    user: (id: string): Promise<User | null> => connection.read(db => readUser(db, id)),

    /** Up to `limit` users in (createdAt, id) order. */
    listUsers: (filter: UserFilter): Promise<UserSummary[]> => connection.read(db => {
      const { statement, args } = pageStatement(db, filter)
      return (statement.all(...args) as UserSummaryRow[]).map(toUserSummary)
    }),

    /** A user and a session, read together. */
    userAndSession: (userId: string, sessionId: string) =>
      connection.read(db => ({ user: readUser(db, userId), session: readSession(db, sessionId) })),

    liveSessions: (userId: string, now: number): Promise<SessionSummary[]> => connection.read(db =>
      (statementsFor(db).liveSessions.all(userId, isoText(now)) as SessionSummaryRow[]).map(toSessionSummary)
        // (the same form of text everywhere: ordered as text, ordered in time)
        .sort((a, b) => a.lastUsedAt < b.lastUsedAt ? 1 : a.lastUsedAt > b.lastUsedAt ? -1 : 0)),

    /**
     * One rotation of a refresh token, by its hash: in one IMMEDIATE transaction, reads what
     * `decide` needs (undefined for an unknown token), and writes the claim it returns, if any.
     * Concurrent rotations of one token, from this process or another, run one after the other;
     * only the first finds the token unused. `decide` must be synchronous.
     */
    rotate: async <T>(hash: string, decide: (facts: RotationFacts | undefined) => { result: T, claim?: RotationClaim }): Promise<T> =>
      // (boxed: what `decide` returns is synchronous, but a bare T could be a promise to the types)
      (await connection.immediate(db => {
        const q = statementsFor(db)
        const row = q.token.get(hash) as TokenRow | undefined
        let facts: RotationFacts | undefined
        if (row !== undefined) {
          // A token's session and its user exist: deleting either deletes the token (cascade).
          const session = readSession(db, row.sessionId) as Session
          const token = { ...row, expiresAt: new Date(row.expiresAt), usedAt: row.usedAt === null ? null : new Date(row.usedAt) }
          facts = { token, session, user: readUser(db, session.userId) as User }
        }
        const { result, claim } = decide(facts)
        if (claim !== undefined && facts !== undefined) {
          const at = isoText(claim.at)
          q.claim.run(at, claim.sealedSuccessor, facts.token.id)
          q.insertToken.run(randomUUID(), claim.successorHash, facts.session.id, at, isoText(claim.successorExpiresAt))
          q.touch.run(at, facts.session.id)
        }
        return { result }
      })).result,

    /** The denylist entries written after `cursor` (0 for all), and the cursor to read from next. */
    deniedSince: (cursor: number) => connection.read(db => {
      const rows = statementsFor(db).denied.all(cursor) as DeniedRow[]
      const entries = rows.map(([, kind, value, expiresAt, issuedBefore]): DenyEntry => kind === 'sid_before' || kind === 'client_before'
        ? { kind, value, expiresAt: Date.parse(expiresAt), issuedBefore: Date.parse(issuedBefore as string) }
        : { kind, value, expiresAt: Date.parse(expiresAt) })
      return { entries, cursor: rows.length === 0 ? cursor : Number(rows[rows.length - 1][0]) }
    }),

    /**
     * Records a password attempt under `key` at `at` unless `limit` are recorded after `since`:
     * the new row's id, or when the oldest of those that count was made. One IMMEDIATE
     * transaction: concurrent takes, from any process, run one after the other.
     */
    takeAttempt: (key: string, limit: number, since: number, at: number): Promise<{ id: string } | { oldest: Date }> => connection.immediate(db => {
      const q = statementsFor(db)
      const counted = q.attempts.all(key, isoText(since), limit) as string[]
      if (counted.length >= limit) return { oldest: new Date(counted[0]) }
      const id = randomUUID()
      q.insertAttempt.run(id, key, isoText(at))
      return { id }
    }),

    /**
     * Takes up to `limit` outbox messages due at `now` until `until`, in one statement: SQLite
     * runs one writer at a time, so two senders never take the same message.
     */
    takeMail: (now: number, until: number, limit: number): Promise<OutboxMessage[]> => connection.immediate(db => {
      const rows = statementsFor(db).takeMail.all(isoText(until), isoText(now), isoText(now), limit) as Array<Omit<OutboxMessage, 'expiresAt' | 'attempts'> & { expiresAt: string, attempts: bigint | number }>
      return rows.map(row => ({ ...row, expiresAt: new Date(row.expiresAt), attempts: Number(row.attempts) }))
    }),

    /**
     * Deletes expired denylist entries and refresh tokens, and the sessions expired, or revoked,
     * before `sessionsBefore`; returns how many rows went.
     */
    purge: (now: number, sessionsBefore: number) => connection.immediate(db => {
      const q = statementsFor(db)
      const sessionsCutoff = isoText(sessionsBefore)
      return q.purgeDenied.run(isoText(now)).changes + q.purgeTokens.run(isoText(now)).changes +
        q.purgeSessions.run(sessionsCutoff, sessionsCutoff).changes
    })
  }
}

/** The hot paths, as every engine implements them. */
export type FastPaths = ReturnType<typeof createSqlitePaths>
