// What an admin may do to accounts: list and read them, change roles, disable, delete, end
// their sessions. Every change keeps at least one enabled admin, ends sessions in the same
// transaction that disables or deletes, and goes to the audit trail.
import fp from 'fastify-plugin'
import type { Prisma } from '../../generated/prisma/client.js'
import { toAdminUser, type AdminUser, type UserChange, type UserQuery } from '../../schemas/admin.js'
import type { Session } from '../../generated/prisma/client.js'
import { InvalidRequest, LastAdmin, NotFound } from '../../errors.js'
import { flattenUser, withRoles, type User } from './users.js'
import type { ClientInfo } from '../../schemas/audit.js'
import type { DenyEntry } from './revocation.js'

// The audit fields of an admin's action: the admin is the actor, in their own session.
const auditedAs = ({ id, sessionId, ip, userAgent }: Actor) => ({ actorId: id, sessionId, ip, userAgent })

/** The admin acting, for the audit trail. */
export interface Actor extends ClientInfo {
  id: string
  sessionId: string
}

declare module 'fastify' {
  interface FastifyInstance {
    admin: {
      list (query: UserQuery): Promise<{ users: AdminUser[], nextCursor: string | null }>
      get (id: string): Promise<{ user: AdminUser, sessions: Session[] }>
      update (actor: Actor, id: string, change: UserChange): Promise<AdminUser>
      remove (actor: Actor, id: string): Promise<void>
      endSessions (actor: Actor, id: string): Promise<number>
    }
  }
}

// Keyset pagination on (createdAt, id): a page boundary survives rows deleted meanwhile.
function encodeCursor (user: User): string {
  return Buffer.from(JSON.stringify([user.createdAt.toISOString(), user.id])).toString('base64url')
}

function decodeCursor (cursor: string): Prisma.UserWhereInput {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown]
    const createdAt = new Date(String(at))
    if (typeof id !== 'string' || Number.isNaN(createdAt.getTime())) throw new Error('bad cursor')
    return { OR: [{ createdAt: { gt: createdAt } }, { createdAt, id: { gt: id } }] }
  } catch {
    throw new InvalidRequest('cursor is not one this service gave out')
  }
}

const ADMIN = 'admin'

// A prefix as a range, not LIKE (which would read _ and % as wildcards); the range also uses the index.
function prefix (text: string | undefined) {
  if (text === undefined) return undefined
  const start = text.toLowerCase()
  return { gte: start, lt: start + '\u{10FFFF}' }
}

export default fp(async function admin (app) {
  const { prisma, sessions, revocation, audit } = app

  async function load (tx: Prisma.TransactionClient, id: string): Promise<User> {
    const row = await tx.user.findUnique({ where: { id }, include: withRoles })
    if (row === null) throw new NotFound('No such user')
    return flattenUser(row)
  }

  // The rule that keeps the service administrable: after the change, some enabled admin remains.
  async function keepAnAdmin (tx: Prisma.TransactionClient, target: User, staysAdmin: boolean) {
    if (!target.roles.includes(ADMIN) || staysAdmin) return
    const others = await tx.user.count({ where: { id: { not: target.id }, disabled: false, roles: { some: { role: ADMIN } } } })
    if (others === 0) throw new LastAdmin()
  }

  app.decorate('admin', {
    async list ({ limit, cursor, username, email, role, disabled }: UserQuery) {
      const rows = await prisma.user.findMany({
        where: {
          AND: [
            ...(cursor !== undefined ? [decodeCursor(cursor)] : []),
            {
              username: prefix(username),
              email: prefix(email),
              roles: role === undefined ? undefined : { some: { role } },
              disabled
            }
          ]
        },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: limit + 1,
        include: withRoles
      })
      const page = rows.slice(0, limit).map(flattenUser)
      return { users: page.map(toAdminUser), nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]) : null }
    },

    async get (id: string) {
      const user = await load(prisma, id)
      return { user: toAdminUser(user), sessions: await sessions.list(id) }
    },

    async update (actor: Actor, id: string, change: UserChange) {
      const by = auditedAs(actor)
      const { user, revoked } = await prisma.$transaction(async tx => {
        const before = await load(tx, id)
        const roles = change.roles ?? before.roles
        const disabled = change.disabled ?? before.disabled
        await keepAnAdmin(tx, before, roles.includes(ADMIN) && !disabled)

        let revoked: DenyEntry[] = []
        if (change.roles !== undefined && [...roles].sort().join(' ') !== before.roles.join(' ')) {
          await tx.userRole.deleteMany({ where: { userId: id } })
          await tx.userRole.createMany({ data: roles.map(role => ({ userId: id, role })) })
          await tx.user.update({ where: { id }, data: { updatedAt: new Date() } })
          // A removed role's scopes go from the live access tokens at once, not at their expiry;
          // the sessions stay, and their next refresh carries what the remaining roles grant.
          if (before.roles.some(role => !roles.includes(role))) revoked = await sessions.expireUserTokens(tx, id)
          await audit.record({ type: 'roles_changed', userId: id, ...by, detail: { from: before.roles, to: [...roles].sort() } }, tx)
        }
        if (disabled !== before.disabled) {
          await tx.user.update({ where: { id }, data: { disabled } })
          // Disabling takes effect at once: every session ends, every live access token is denied.
          const ended = disabled ? await sessions.revokeUserSessions(tx, id) : []
          revoked = [...revoked, ...ended]
          await audit.record({ type: disabled ? 'user_disabled' : 'user_enabled', userId: id, ...by, detail: { sessionsEnded: ended.length } }, tx)
        }
        return { user: await load(tx, id), revoked }
      })
      revocation.remember(revoked)
      return toAdminUser(user)
    },

    async remove (actor: Actor, id: string) {
      const by = auditedAs(actor)
      const revoked = await prisma.$transaction(async tx => {
        const target = await load(tx, id)
        await keepAnAdmin(tx, target, false)
        // The denylist rows outlive the sessions the delete cascades away.
        const entries = await sessions.revokeUserSessions(tx, id)
        await tx.user.delete({ where: { id } })
        await audit.record({ type: 'user_deleted', userId: id, ...by, detail: { username: target.username, sessionsEnded: entries.length } }, tx)
        return entries
      })
      revocation.remember(revoked)
    },

    async endSessions (actor: Actor, id: string) {
      const by = auditedAs(actor)
      const revoked = await prisma.$transaction(async tx => {
        await load(tx, id)
        const entries = await sessions.revokeUserSessions(tx, id)
        await audit.record({ type: 'sessions_revoked', userId: id, ...by, detail: { sessionsEnded: entries.length } }, tx)
        return entries
      })
      revocation.remember(revoked)
      return revoked.length
    }
  })
}, { name: 'admin', dependencies: ['prisma', 'sessions', 'revocation', 'audit'] })
