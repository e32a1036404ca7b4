// Sessions and their refresh tokens, through Prisma: the portable implementation, on the client
// or inside a transaction. (On SQLite, ./sqlite.ts reads them and rotates refresh tokens with
// statements.)
import type { Db } from './database.js'
import type { Client, Session, SessionSummary } from './records.js'

/** Which live sessions: one user's, one by id, all but one. */
export interface SessionSelection {
  userId?: string
  id?: string
  except?: string
  /** Only those that have not expired at this time. */
  unexpiredAt?: Date
}

export function createSessions (db: Db) {
  return {
    get: (id: string): Promise<Session | null> => db.session.findUnique({ where: { id } }),

    /** The user's sessions neither revoked nor expired at `now`, most recently used first. */
    live: async (userId: string, now: number): Promise<SessionSummary[]> => (await db.session.findMany({
      where: { userId, revokedAt: null, expiresAt: { gt: new Date(now) } },
      orderBy: { lastUsedAt: 'desc' },
      select: { id: true, createdAt: true, lastUsedAt: true, expiresAt: true, userAgent: true, ip: true }
    })).map(row => ({ ...row, createdAt: row.createdAt.toISOString(), lastUsedAt: row.lastUsedAt.toISOString(), expiresAt: row.expiresAt.toISOString() })),

    /** A new session with its first refresh token (only the token's hash is stored); `openedAt` is its auth_time. */
    open: (input: { userId: string, scope: string, amr: string, openedAt: Date, client: Client, expiresAt: Date, refreshToken: { hash: string, expiresAt: Date } }): Promise<Session> =>
      db.session.create({
        data: {
          userId: input.userId,
          scope: input.scope,
          amr: input.amr,
          createdAt: input.openedAt,
          lastUsedAt: input.openedAt,
          ip: input.client.ip,
          userAgent: input.client.userAgent,
          expiresAt: input.expiresAt,
          refreshTokens: { create: input.refreshToken }
        }
      }),

    /** The ids of the sessions selected that are not revoked. */
    async unrevoked ({ userId, id, except, unexpiredAt }: SessionSelection): Promise<string[]> {
      const rows = await db.session.findMany({
        // (Prisma leaves out a condition whose value is undefined.)
        where: { userId, id, revokedAt: null, NOT: except === undefined ? undefined : { id: except }, expiresAt: unexpiredAt && { gt: unexpiredAt } },
        select: { id: true }
      })
      return rows.map(row => row.id)
    },

    /** Marks the sessions revoked; returns their users' ids. */
    async revoke (ids: string[], at: Date): Promise<string[]> {
      if (ids.length === 0) return []
      const rows = await db.session.updateManyAndReturn({ where: { id: { in: ids } }, data: { revokedAt: at }, select: { userId: true } })
      return rows.map(row => row.userId)
    },

    /** Whether any session was ever opened (and not yet purged). */
    any: async (): Promise<boolean> => (await db.session.findFirst({ select: { id: true } })) !== null,

    /** A refresh token (by its hash), its session and the session's user, as introspection reads them. */
    async refreshToken (hash: string): Promise<{ createdAt: Date, expiresAt: Date, usedAt: Date | null, session: Session, user: { id: string, username: string, disabled: boolean } } | null> {
      const token = await db.refreshToken.findUnique({
        where: { hash },
        select: { createdAt: true, expiresAt: true, usedAt: true, session: { include: { user: { select: { id: true, username: true, disabled: true } } } } }
      })
      if (token === null) return null
      const { session: { user, ...session }, ...times } = token
      return { ...times, session, user }
    },

    /** The session a refresh token (by its hash) belongs to, whether or not the token is used. */
    async byRefreshToken (hash: string): Promise<Pick<Session, 'id' | 'userId' | 'revokedAt' | 'expiresAt'> | null> {
      const token = await db.refreshToken.findUnique({
        where: { hash },
        select: { session: { select: { id: true, userId: true, revokedAt: true, expiresAt: true } } }
      })
      return token?.session ?? null
    }
  }
}
