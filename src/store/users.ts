// Accounts and their roles, through Prisma: the portable implementation, on the client or inside
// a transaction. (On SQLite, ./sqlite.ts reads a user and lists users with statements.)
import { Prisma } from '../generated/prisma/client.js'
import type { User as PrismaUser } from '../generated/prisma/client.js'
import type { Db } from './database.js'
import type { User, UserSummary } from './records.js'

const withRoles = { roles: { select: { role: true } } } as const

function toUser ({ roles, ...row }: PrismaUser & { roles: Array<{ role: string }> }): User {
  return { ...row, roles: roles.map(r => r.role).sort() }
}

/** Usernames cannot contain "@", so a login with one is an email. */
function loginFilter (login: string) {
  const key = login.toLowerCase()
  return key.includes('@') ? { email: key } : { username: key }
}

// A prefix as a range, not LIKE (which would read _ and % as wildcards); the range also uses the index.
function prefix (text: string | undefined) {
  if (text === undefined) return undefined
  const start = text.toLowerCase()
  return { gte: start, lt: start + '\u{10FFFF}' }
}

export interface UserFilter {
  limit: number
  /** Users after this one in (createdAt, id) order. */
  after?: { createdAt: Date, id: string }
  usernamePrefix?: string
  emailPrefix?: string
  role?: string
  disabled?: boolean
}

export type Taken = 'username_taken' | 'email_taken'

export function createUsers (db: Db) {
  return {
    async get (id: string): Promise<User | null> {
      const row = await db.user.findUnique({ where: { id }, include: withRoles })
      return row === null ? null : toUser(row)
    },

    /** What a password check needs of the account a login names (username, or email with an "@"). */
    byLogin: (login: string) => db.user.findUnique({
      where: loginFilter(login),
      select: { id: true, passwordHash: true, passwordVersion: true, disabled: true }
    }),

    /** Which of the two is already someone's (lower-case, as stored), if either. */
    async taken (username: string, email: string): Promise<Taken | undefined> {
      const existing = await db.user.findFirst({ where: { OR: [{ username }, { email }] }, select: { username: true } })
      return existing === null ? undefined : existing.username === username ? 'username_taken' : 'email_taken'
    },

    /** The new user, or which unique field a concurrent registration took first. */
    async create (input: { username: string, email: string, passwordHash: string, roles: string[], emailVerified?: boolean }): Promise<User | Taken> {
      const { roles, ...fields } = input
      try {
        return toUser(await db.user.create({ data: { ...fields, roles: { create: roles.map(role => ({ role })) } }, include: withRoles }))
      } catch (err) {
        if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') throw err
        return JSON.stringify(err.meta ?? {}).includes('email') ? 'email_taken' : 'username_taken'
      }
    },

    async setPasswordHash (id: string, passwordHash: string): Promise<void> {
      await db.user.update({ where: { id }, data: { passwordHash } })
    },

    /** A new password, only if the password is still at `version`; false if it changed meanwhile. */
    async replacePassword (id: string, version: number, passwordHash: string): Promise<boolean> {
      const { count } = await db.user.updateMany({
        where: { id, passwordVersion: version },
        data: { passwordHash, passwordVersion: { increment: 1 } }
      })
      return count === 1
    },

    /** The account with this address (lower-case, as stored), as the mailed flows need it. */
    byEmail: (email: string) => db.user.findUnique({
      where: { email },
      select: { id: true, username: true, email: true, emailVerified: true, disabled: true }
    }),

    async setEmailVerified (id: string, emailVerified: boolean): Promise<void> {
      await db.user.update({ where: { id }, data: { emailVerified } })
    },

    /** A new, verified address; 'email_taken' if another account has it. */
    async changeEmail (id: string, email: string): Promise<'email_taken' | undefined> {
      try {
        await db.user.update({ where: { id }, data: { email, emailVerified: true } })
      } catch (err) {
        if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') throw err
        return 'email_taken'
      }
    },

    async setRoles (id: string, roles: string[]): Promise<void> {
      await db.userRole.deleteMany({ where: { userId: id } })
      await db.userRole.createMany({ data: roles.map(role => ({ userId: id, role })) })
      await db.user.update({ where: { id }, data: { updatedAt: new Date() } })
    },

    async setDisabled (id: string, disabled: boolean): Promise<void> {
      await db.user.update({ where: { id }, data: { disabled } })
    },

    /** Deletes the user; its roles and sessions (and their refresh tokens) go with it. */
    async remove (id: string): Promise<void> {
      await db.user.delete({ where: { id } })
    },

    /** How many enabled users other than `id` hold `role`. */
    countOthersWithRole: (id: string, role: string) =>
      db.user.count({ where: { id: { not: id }, disabled: false, roles: { some: { role } } } }),

    /** Up to `limit` users in (createdAt, id) order. */
    async list ({ limit, after, usernamePrefix, emailPrefix, role, disabled }: UserFilter): Promise<UserSummary[]> {
      const rows = await db.user.findMany({
        where: {
          AND: [
            ...(after === undefined ? [] : [{ OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] }]),
            { username: prefix(usernamePrefix), email: prefix(emailPrefix), roles: role === undefined ? undefined : { some: { role } }, disabled }
          ]
        },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: limit,
        select: { id: true, username: true, email: true, emailVerified: true, disabled: true, createdAt: true, updatedAt: true, ...withRoles }
      })
      return rows.map(({ roles, createdAt, updatedAt, ...row }) =>
        ({ ...row, roles: roles.map(r => r.role).sort(), createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() }))
    }
  }
}
