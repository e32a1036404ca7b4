// Sessions: one per login, owning a chain of refresh tokens. Everything that opens, rotates or
// ends one lives here, so that every route (token endpoint, refresh, logout, revoke, ...) shares
// one implementation and one set of rules.
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Database } from 'better-sqlite3'
import type { Prisma, Session } from '../../generated/prisma/client.js'
import { isoText, perConnection } from '../../db/adapter.js'
import { grantedScopes, narrowScopes, type Scope } from '../../roles.js'
import { hashRefreshToken, newRefreshToken, openSuccessor, sealSuccessor } from '../../refresh-token.js'
import { InvalidGrant, InvalidScope, RateLimited } from '../../errors.js'
import { createTokenBucket } from '../../auth/limits.js'
import { withRoles, flattenUser } from './users.js'
import type { User } from '../../store/rows.js'
import { createReads, readSession, readUser } from '../../store/reads.js'
import { MAX_PASSWORD_BYTES } from '../../auth/password-rules.js'
import type { DenyEntry } from './revocation.js'
import type { ClientInfo } from '../../schemas/audit.js'
import type { PasswordAttempt } from './password-attempts.js'


export interface IssuedTokens {
  user: User
  session: Session
  accessToken: string
  /** Seconds until the access token expires. */
  expiresIn: number
  refreshToken: string
  /** Seconds until the refresh token expires. */
  refreshExpiresIn: number
  scope: string
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: {
      /**
       * Checks a username (or email) and password, then opens a session with the scopes asked for
       * among those the user's roles grant. Null when the credentials are wrong, whichever part;
       * throws invalid_scope when nothing asked for can be granted.
       */
      login (login: string, password: string, requested: string[] | undefined, client: ClientInfo & { via: 'api' | 'browser' },
        attempt: PasswordAttempt): Promise<IssuedTokens | null>
      /** The id of the live session a refresh token belongs to, without using the token. */
      sessionOf (refreshToken: string): Promise<string | null>
      /** Rotates a refresh token. Throws invalid_grant (and ends the session on a reuse) or invalid_scope. */
      refresh (refreshToken: string, requested: string[] | undefined, client: ClientInfo): Promise<IssuedTokens>
      /**
       * Revokes every live session of a user but `keep` inside the caller's transaction;
       * remember() the result once committed.
       */
      revokeUserSessions (tx: Prisma.TransactionClient, userId: string, keep?: string): Promise<DenyEntry[]>
      /**
       * Refuses the access tokens the user's sessions hold now, keeping the sessions: after a role
       * was removed, the next refresh issues tokens with the scopes that remain. Same contract.
       */
      expireUserTokens (tx: Prisma.TransactionClient, userId: string): Promise<DenyEntry[]>
      /** The session, live or not, or null. */
      get (id: string): Promise<Session | null>
      /** The user's sessions that are neither revoked nor expired, most recently used first. */
      list (userId: string): Promise<Session[]>
      /** Ends one of the user's live sessions; false if there is no such live session. */
      end (userId: string, sessionId: string): Promise<boolean>
      /** Ends every live session of the user but `keep`; returns how many ended. */
      endAll (userId: string, keep?: string): Promise<number>
      /** Logout: ends the session and denies the access token that asked for it. */
      logout (userId: string, sessionId: string, accessToken: { jti: string, exp: number }): Promise<void>
      /** RFC 7009 for a refresh token: ends its session. Null if it is unknown. */
      revokeRefreshToken (refreshToken: string): Promise<{ userId: string, sessionId: string } | null>
      /** RFC 7009 for an access token: denies it until it expires. */
      revokeAccessToken (accessToken: { jti: string, exp: number }): Promise<void>
    }
  }
}

// Denylist entries outlive their tokens by this much, for clocks that disagree a little.
const CLOCK_MARGIN_MS = 60_000

type Rotation =
  | { outcome: 'rotated', user: User, session: Session, scopes: Scope[], refreshToken: string }
  | { outcome: 'reused', userId: string, sessionId: string }
  | { outcome: 'invalid' }
  | { outcome: 'invalid_scope' }
  | { outcome: 'rate_limited', retryAfter: number }

// A refresh token's row, as the rotation's raw statement reads it (src/store/rows.ts).
interface TokenRow { id: string, sessionId: string, expiresAt: string, usedAt: string | null, successor: string | null }

const statementsFor = perConnection((db: Database) => ({
  token: db.prepare('SELECT id, sessionId, expiresAt, usedAt, successor FROM RefreshToken WHERE hash = ?'),
  claim: db.prepare('UPDATE RefreshToken SET usedAt = ?, successor = ? WHERE id = ? AND usedAt IS NULL'),
  insert: db.prepare('INSERT INTO RefreshToken (id, hash, sessionId, createdAt, expiresAt) VALUES (?, ?, ?, ?, ?)'),
  touch: db.prepare('UPDATE Session SET lastUsedAt = ? WHERE id = ?')
}))

export default fp(async function sessions (app) {
  const { prisma, config, revocation, users, audit } = app
  const ttl = config.ACCESS_TOKEN_TTL
  // Each rotation leaves a row, kept as long as reuse detection needs it (the token's own life):
  // one signed-in client must not grow the database without bound.
  const rotations = createTokenBucket({ limit: config.RATE_LIMIT_REFRESH, windowMs: 60_000 })
  const reads = createReads(app.sqlite)

  function issue (user: User, session: Session, scopes: Scope[], refreshToken: string): IssuedTokens {
    const scope = scopes.join(' ')
    const now = Date.now()
    // After a role was removed, tokens of this session issued before that instant are refused
    // (sid_before); one issued in that same second must not look older than it is.
    const iat = Math.max(Math.floor(now / 1000), revocation.issuableFrom(session.id))
    const payload = { sub: user.id, sid: session.id, jti: randomUUID(), scope, iat }
    // No access token outlives its session.
    const left = Math.floor(session.expiresAt.getTime() / 1000) - iat
    const accessToken = left < ttl ? app.jwt.sign(payload, { expiresIn: left }) : app.jwt.sign(payload)
    const refreshExpiresIn = Math.floor((refreshExpiry(session, now) - now) / 1000)
    return { user, session, accessToken, expiresIn: Math.min(left, ttl), refreshToken, refreshExpiresIn, scope }
  }

  function refreshExpiry (session: Session, now: number): number {
    return Math.min(now + config.REFRESH_TOKEN_TTL * 1000, session.expiresAt.getTime())
  }

  // Marks live sessions revoked and denies their ids until every access token naming them has
  // expired: they were all issued by now, so none lives past now + the access TTL.
  async function revokeWhere (tx: Prisma.TransactionClient, where: Prisma.SessionWhereInput, now: number): Promise<DenyEntry[]> {
    const live = await tx.session.findMany({ where: { ...where, revokedAt: null }, select: { id: true } })
    if (live.length === 0) return []
    const ids = live.map(s => s.id)
    await tx.session.updateMany({ where: { id: { in: ids } }, data: { revokedAt: new Date(now) } })
    const expiresAt = new Date(now + ttl * 1000 + CLOCK_MARGIN_MS)
    const entries = ids.map(value => ({ kind: 'sid' as const, value, expiresAt }))
    await revocation.record(tx, entries)
    return entries
  }

  async function revoke (where: Prisma.SessionWhereInput, extra: DenyEntry[] = [], alongside?: (tx: Prisma.TransactionClient) => Promise<void>): Promise<number> {
    const now = Date.now()
    const entries = await prisma.$transaction(async tx => {
      const revoked = await revokeWhere(tx, where, now)
      await revocation.record(tx, extra)
      await alongside?.(tx)
      return [...revoked, ...extra]
    })
    revocation.remember(entries)
    return entries.length - extra.length
  }

  const jtiEntry = ({ jti, exp }: { jti: string, exp: number }): DenyEntry =>
    ({ kind: 'jti', value: jti, expiresAt: new Date(exp * 1000 + CLOCK_MARGIN_MS) })

  // Opens the session in one transaction with a fresh read of the user: a disable, a role
  // change or a password change that commits meanwhile is either seen here or sees (and ends)
  // this session. The password was checked against the version read before bcrypt ran: if it
  // changed since, that check no longer counts.
  async function start (userId: string, password: { version: number, rehash: string | undefined }, requested: string[] | undefined, client: ClientInfo) {
    return await prisma.$transaction(async (tx): Promise<IssuedTokens | 'refused' | 'invalid_scope'> => {
      const row = await tx.user.findUnique({ where: { id: userId }, include: withRoles })
      if (row === null || row.disabled || row.passwordVersion !== password.version) return 'refused'
      const user = flattenUser(row)
      const scopes = narrowScopes(grantedScopes(user.roles), requested)
      if (scopes === undefined || scopes.length === 0) return 'invalid_scope'
      const now = Date.now()
      const refreshToken = newRefreshToken()
      const session = await tx.session.create({
        data: {
          userId: user.id,
          scope: scopes.join(' '),
          ip: client.ip,
          userAgent: client.userAgent,
          expiresAt: new Date(now + config.SESSION_TTL * 1000),
          refreshTokens: {
            create: {
              hash: hashRefreshToken(refreshToken),
              expiresAt: new Date(now + Math.min(config.REFRESH_TOKEN_TTL, config.SESSION_TTL) * 1000)
            }
          }
        }
      })
      if (password.rehash !== undefined) await tx.user.update({ where: { id: user.id }, data: { passwordHash: password.rehash } })
      return issue(user, session, scopes, refreshToken)
    })
  }

  app.decorate('sessions', {
    async login (login: string, password: string, requested: string[] | undefined, client: ClientInfo & { via: 'api' | 'browser' }, attempt: PasswordAttempt) {
      const { via, ...where } = client
      // bcrypt would compare only the first 72 bytes: such a password was never accepted.
      const checked = Buffer.byteLength(password) > MAX_PASSWORD_BYTES
        ? { userId: null, accountId: null }
        : await users.checkCredentials(login, password, attempt)
      const issued = checked.userId === null
        ? 'refused'
        : await start(checked.userId, { version: checked.passwordVersion, rehash: checked.rehash }, requested, where)
      if (typeof issued === 'string') {
        await audit.record({ type: 'login_failed', userId: checked.accountId, ...where, detail: { via, ...(issued === 'invalid_scope' && { reason: 'invalid_scope' }) } })
        if (issued === 'invalid_scope') throw new InvalidScope('None of the requested scopes can be granted')
        return null
      }
      await audit.record({ type: 'login_succeeded', userId: issued.user.id, sessionId: issued.session.id, ...where, detail: { via, scope: issued.scope } })
      return issued
    },

    revokeUserSessions: (tx: Prisma.TransactionClient, userId: string, keep?: string) =>
      revokeWhere(tx, { userId, ...(keep !== undefined && { id: { not: keep } }) }, Date.now()),

    async expireUserTokens (tx: Prisma.TransactionClient, userId: string) {
      const now = Date.now()
      const live = await tx.session.findMany({ where: { userId, revokedAt: null }, select: { id: true } })
      const expiresAt = new Date(now + ttl * 1000 + CLOCK_MARGIN_MS)
      const entries = live.map(({ id }) => ({ kind: 'sid_before' as const, value: id, expiresAt, issuedBefore: new Date(now) }))
      await revocation.record(tx, entries)
      return entries
    },

    async sessionOf (refreshToken: string) {
      const token = await prisma.refreshToken.findUnique({
        where: { hash: hashRefreshToken(refreshToken) },
        select: { session: { select: { id: true, revokedAt: true, expiresAt: true } } }
      })
      const session = token?.session
      return session === undefined || session.revokedAt !== null || session.expiresAt.getTime() <= Date.now() ? null : session.id
    },

    async refresh (presented: string, requested: string[] | undefined, client: ClientInfo) {
      // One synchronous IMMEDIATE transaction on Prisma's own connection, in prepared statements
      // (Prisma's per-query cost was three quarters of a rotation): concurrent rotations of one
      // token, from this process or another, run one after the other.
      const rotation = await app.sqlite.immediate((db): Rotation => {
        const q = statementsFor(db)
        const now = Date.now()
        const token = q.token.get(hashRefreshToken(presented)) as TokenRow | undefined
        if (token === undefined) return { outcome: 'invalid' }
        // A token's session and its user exist: deleting either deletes the token (cascade).
        const session = readSession(db, token.sessionId) as Session
        const user = readUser(db, session.userId) as User
        // (a second to spare, so that the access token issued now lives at least that long)
        if (session.revokedAt !== null || session.expiresAt.getTime() <= now + 1000 ||
          Date.parse(token.expiresAt) <= now || user.disabled) return { outcome: 'invalid' }

        // The session keeps the scopes granted at login, less any its user's roles no longer
        // grant; a refresh may ask for fewer, never for more.
        const sessionScopes = new Set(session.scope.split(' '))
        const narrowed = narrowScopes(grantedScopes(user.roles).filter(s => sessionScopes.has(s)), requested)
        // Nothing left that the roles still grant: the session has no use.
        const scopes = narrowed?.length === 0 ? undefined : narrowed

        if (token.usedAt === null) {
          if (scopes === undefined) return { outcome: 'invalid_scope' }
          const slot = rotations.take(session.id, now)
          if (!slot.ok) return { outcome: 'rate_limited', retryAfter: slot.retryAfter }
          const successor = newRefreshToken()
          const at = isoText(now)
          // The atomic claim: only the first use finds usedAt still empty.
          if (q.claim.run(at, sealSuccessor(presented, successor), token.id).changes !== 1) return { outcome: 'invalid' }
          q.insert.run(randomUUID(), hashRefreshToken(successor), session.id, at, isoText(refreshExpiry(session, now)))
          q.touch.run(at, session.id)
          return { outcome: 'rotated', user, session: { ...session, lastUsedAt: new Date(now) }, scopes, refreshToken: successor }
        }

        // Used already. Inside the grace window this is a retry: the same successor again.
        const successor = token.successor === null ? undefined : openSuccessor(presented, token.successor)
        if (now - Date.parse(token.usedAt) <= config.REFRESH_REUSE_GRACE * 1000 && successor !== undefined) {
          if (scopes === undefined) return { outcome: 'invalid_scope' }
          return { outcome: 'rotated', user, session, scopes, refreshToken: successor }
        }
        // Past it, someone is replaying a token that was rotated away.
        return { outcome: 'reused', userId: user.id, sessionId: session.id }
      })

      switch (rotation.outcome) {
        case 'rotated':
          return issue(rotation.user, rotation.session, rotation.scopes, rotation.refreshToken)
        case 'reused':
          // End the whole session (anything its chain did meanwhile ends with it) and record why,
          // in one transaction. Should it fail (the database busy past its timeout), the reply is
          // a 503 and nothing has changed, as when the rotation itself cannot begin: the token is
          // still a used one, and its next replay ends the session.
          await revoke({ id: rotation.sessionId }, [], async tx => {
            await audit.record({ type: 'refresh_reuse_detected', userId: rotation.userId, sessionId: rotation.sessionId, ...client }, tx)
          })
          app.log.warn({ userId: rotation.userId, sessionId: rotation.sessionId }, 'refresh token reuse detected: session revoked')
          throw new InvalidGrant('The refresh token is invalid')
        case 'invalid_scope':
          throw new InvalidScope('None of the requested scopes can be granted')
        case 'rate_limited':
          throw new RateLimited(rotation.retryAfter)
        default:
          throw new InvalidGrant('The refresh token is invalid')
      }
    },

    get: (id: string) => reads.session(id),

    list: (userId: string) => reads.liveSessions(userId, Date.now()),

    end: async (userId: string, sessionId: string) =>
      await revoke({ id: sessionId, userId, expiresAt: { gt: new Date() } }) === 1,

    endAll: (userId: string, keep?: string) =>
      revoke({ userId, ...(keep !== undefined && { id: { not: keep } }) }),

    async logout (userId: string, sessionId: string, accessToken: { jti: string, exp: number }) {
      await revoke({ id: sessionId, userId }, [jtiEntry(accessToken)])
    },

    async revokeRefreshToken (refreshToken: string) {
      const token = await prisma.refreshToken.findUnique({
        where: { hash: hashRefreshToken(refreshToken) },
        select: { sessionId: true, session: { select: { userId: true } } }
      })
      if (token === null) return null
      await revoke({ id: token.sessionId })
      return { userId: token.session.userId, sessionId: token.sessionId }
    },

    revokeAccessToken: (accessToken: { jti: string, exp: number }) => revocation.deny([jtiEntry(accessToken)])
  })
}, { name: 'sessions', dependencies: ['prisma', 'jwt', 'revocation', 'users', 'audit'] })
