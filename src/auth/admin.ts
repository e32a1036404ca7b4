// What an admin may do to accounts: list and read them, change roles, disable, mark the address
// verified or not, delete, end their
// sessions, read the audit trail. Every change keeps at least one enabled admin, ends sessions in
// the transaction that disables or deletes, and is recorded in that transaction.
import { InvalidRequest, LastAdmin, NotFound } from '../errors.js'
import type { AuditFilter, AuditRecord, Client, DenyEntry, SessionSummary, Store, Transaction, User, UserFilter, UserSummary } from '../store/index.js'
import type { Revocation } from './revocation.js'

const ADMIN = 'admin'

/** The admin acting, for the audit trail. */
export interface Actor extends Client {
  id: string
  /** Null for a machine client. */
  sessionId: string | null
}

export interface UserSearch {
  limit: number
  cursor?: string
  username?: string
  email?: string
  role?: string
  disabled?: boolean
}

export interface UserChange {
  roles?: string[]
  disabled?: boolean
  emailVerified?: boolean
}

// Keyset pagination on (createdAt, id): a page boundary survives rows deleted meanwhile.
function encodeCursor (user: UserSummary): string {
  return Buffer.from(JSON.stringify([user.createdAt, user.id])).toString('base64url')
}

function decodeCursor (cursor: string): UserFilter['after'] {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown]
    const createdAt = new Date(String(at))
    if (typeof id !== 'string' || Number.isNaN(createdAt.getTime())) throw new Error('bad cursor')
    return { createdAt, id }
  } catch {
    throw new InvalidRequest('cursor is not one this service gave out')
  }
}

/** The audit fields of an admin's action: the admin is the actor, in their own session. */
export const auditedAs = ({ id, sessionId, ip, userAgent }: Actor) => ({ actorId: id, sessionId, ip, userAgent })

export function createAdmin ({ store, revocation, now = () => Date.now() }: { store: Store, revocation: Revocation, now?: () => number }) {
  async function load (tx: Transaction, id: string): Promise<User> {
    const user = await tx.users.get(id)
    if (user === null) throw new NotFound('No such user')
    return user
  }

  // The rule that keeps the service administrable: after the change, some enabled admin remains.
  async function keepAnAdmin (tx: Transaction, target: User, staysAdmin: boolean) {
    if (!target.roles.includes(ADMIN) || staysAdmin) return
    if (await tx.users.countOthersWithRole(target.id, ADMIN) === 0) throw new LastAdmin()
  }

  return {
    /** A page of users, oldest first; `nextCursor` is null on the last page. */
    async list ({ limit, cursor, username, email, role, disabled }: UserSearch): Promise<{ users: UserSummary[], nextCursor: string | null }> {
      const after = cursor === undefined ? undefined : decodeCursor(cursor)
      const rows = await store.users.list({ limit: limit + 1, after, usernamePrefix: username, emailPrefix: email, role, disabled })
      const users = rows.slice(0, limit)
      return { users, nextCursor: rows.length > limit ? encodeCursor(users[users.length - 1]) : null }
    },

    /** One user and their live sessions; throws not_found. */
    async get (id: string): Promise<{ user: User, sessions: SessionSummary[] }> {
      const user = await store.users.get(id)
      if (user === null) throw new NotFound('No such user')
      return { user, sessions: await store.sessions.live(id, now()) }
    },

    /** Sets roles or disabled; throws not_found or last_admin. */
    update: (actor: Actor, id: string, { roles: newRoles, disabled: newDisabled, emailVerified }: UserChange): Promise<User> => revocation.change(async tx => {
      const by = auditedAs(actor)
      const before = await load(tx, id)
      const roles = newRoles ?? before.roles
      const disabled = newDisabled ?? before.disabled
      await keepAnAdmin(tx, before, roles.includes(ADMIN) && !disabled)

      let denied: DenyEntry[] = []
      if (newRoles !== undefined && [...roles].sort().join(' ') !== before.roles.join(' ')) {
        await tx.users.setRoles(id, roles)
        // A removed role's scopes go from the live access tokens at once, not at their expiry;
        // the sessions stay, and their next refresh carries what the remaining roles grant.
        if (before.roles.some(role => !roles.includes(role))) denied = await revocation.expireTokens(tx, id)
        await tx.audit.record({ type: 'roles_changed', userId: id, ...by, detail: { from: before.roles, to: [...roles].sort() } })
      }
      if (disabled !== before.disabled) {
        await tx.users.setDisabled(id, disabled)
        // Disabling takes effect at once: every session ends, every live access token is denied.
        const ended = disabled ? await revocation.endSessions(tx, { userId: id }) : []
        denied = [...denied, ...ended]
        await tx.audit.record({ type: disabled ? 'user_disabled' : 'user_enabled', userId: id, ...by, detail: { sessionsEnded: ended.length } })
      }
      if (emailVerified !== undefined && emailVerified !== before.emailVerified) {
        await tx.users.setEmailVerified(id, emailVerified)
        await tx.audit.record({ type: 'email_verified_set', userId: id, ...by, detail: { emailVerified } })
      }
      return { result: await load(tx, id), denied }
    }),

    /** Deletes a user, ending their sessions; throws not_found or last_admin. */
    remove: (actor: Actor, id: string): Promise<void> => revocation.change(async tx => {
      const target = await load(tx, id)
      await keepAnAdmin(tx, target, false)
      // The denylist rows outlive the sessions the delete cascades away.
      const denied = await revocation.endSessions(tx, { userId: id })
      await tx.users.remove(id)
      await tx.audit.record({ type: 'user_deleted', userId: id, ...auditedAs(actor), detail: { username: target.username, sessionsEnded: denied.length } })
      return { result: undefined, denied }
    }),

    /** Ends every session of a user; throws not_found. Returns how many ended. */
    endSessions: (actor: Actor, id: string): Promise<number> => revocation.change(async tx => {
      await load(tx, id)
      const denied = await revocation.endSessions(tx, { userId: id })
      await tx.audit.record({ type: 'sessions_revoked', userId: id, ...auditedAs(actor), detail: { sessionsEnded: denied.length } })
      return { result: denied.length, denied }
    }),

    /** The audit trail, newest first; `next` is the `before` of the following page, or null on the last. */
    async audit (filter: AuditFilter): Promise<{ events: AuditRecord[], next: number | null }> {
      const rows = await store.audit.list({ ...filter, limit: filter.limit + 1 })
      const events = rows.slice(0, filter.limit)
      return { events, next: rows.length > filter.limit ? events[events.length - 1].seq : null }
    }
  }
}

export type Admin = ReturnType<typeof createAdmin>
