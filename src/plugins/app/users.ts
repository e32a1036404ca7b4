// Accounts: creation with its uniqueness rules, lookup by username or email, and the password
// check that answers in the same time whether or not the account exists.
import fp from 'fastify-plugin'
import bcrypt from 'bcryptjs'
import { Prisma } from '../../generated/prisma/client.js'
import type { User as UserRow } from '../../generated/prisma/client.js'
import { DEFAULT_ROLES } from '../../roles.js'
import { EmailTaken, InvalidPassword, Overloaded, UsernameTaken, WrongPassword } from '../../errors.js'
import type { PublicUser } from '../../schemas/user.js'
import { passwordProblem } from './passwords.js'

export type User = UserRow & { roles: string[] }

export interface NewUser {
  username: string
  email: string
  password: string
  roles?: string[]
}

declare module 'fastify' {
  interface FastifyInstance {
    users: {
      /** Throws invalid_password, username_taken or email_taken. */
      create (input: NewUser): Promise<User>
      findById (id: string): Promise<User | null>
      /**
       * The id of the enabled user with this username (or email) and password, else null; and,
       * for the audit trail only, the id of the account the login named, if there is one.
       */
      checkCredentials (login: string, password: string): Promise<{ userId: string | null, accountId: string | null }>
      /** Throws wrong_password or invalid_password. */
      changePassword (userId: string, current: string, next: string): Promise<void>
    }
  }
}

export const withRoles = { roles: { select: { role: true } } } as const

export function flattenUser (row: UserRow & { roles: Array<{ role: string }> }): User {
  return { ...row, roles: row.roles.map(r => r.role).sort() }
}

export function toPublicUser (user: User): PublicUser {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    roles: user.roles,
    createdAt: user.createdAt.toISOString()
  }
}

/** Usernames cannot contain "@", so a login with one is an email. */
function loginFilter (login: string) {
  const key = login.toLowerCase()
  return key.includes('@') ? { email: key } : { username: key }
}

function takenError (err: unknown): Error | undefined {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') return undefined
  const fields = JSON.stringify(err.meta ?? {})
  return fields.includes('email') ? new EmailTaken() : new UsernameTaken()
}

export default fp(async function users (app) {
  const { prisma, passwords } = app

  app.decorate('users', {
    async create ({ username, email, password, roles = DEFAULT_ROLES }: NewUser) {
      const problem = passwordProblem(password)
      if (problem !== undefined) throw new InvalidPassword(problem)
      username = username.toLowerCase()
      email = email.toLowerCase()

      // Spare the bcrypt work when the answer is already known; the unique indexes still
      // decide races between two registrations of the same name.
      const existing = await prisma.user.findFirst({ where: { OR: [{ username }, { email }] }, select: { username: true } })
      if (existing !== null) throw existing.username === username ? new UsernameTaken() : new EmailTaken()

      const passwordHash = await passwords.hash(password)
      try {
        return flattenUser(await prisma.user.create({
          data: { username, email, passwordHash, roles: { create: roles.map(role => ({ role })) } },
          include: withRoles
        }))
      } catch (err) {
        throw takenError(err) ?? err
      }
    },

    async findById (id: string) {
      const row = await prisma.user.findUnique({ where: { id }, include: withRoles })
      return row === null ? null : flattenUser(row)
    },

    async checkCredentials (login: string, password: string) {
      // A flood of logins past what the pool can queue is refused before it costs a query.
      if (passwords.saturated()) throw new Overloaded()
      // The same single query whether or not the account exists, so that its time cannot tell.
      const row = await prisma.user.findUnique({ where: loginFilter(login), select: { id: true, passwordHash: true, disabled: true } })
      const match = await passwords.verify(password, row?.passwordHash ?? null)
      const accountId = row?.id ?? null
      if (row === null || !match || row.disabled) return { userId: null, accountId }
      // BCRYPT_ROUNDS was raised since this hash was made: upgrade it while the password is at hand.
      if (bcrypt.getRounds(row.passwordHash) < app.config.BCRYPT_ROUNDS) {
        await prisma.user.update({ where: { id: row.id }, data: { passwordHash: await passwords.hash(password) } })
      }
      return { userId: row.id, accountId }
    },

    async changePassword (userId: string, current: string, next: string) {
      const row = await prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { passwordHash: true } })
      if (!await passwords.verify(current, row.passwordHash)) throw new WrongPassword()
      const problem = passwordProblem(next)
      if (problem !== undefined) throw new InvalidPassword(problem)
      await prisma.user.update({ where: { id: userId }, data: { passwordHash: await passwords.hash(next) } })
    }
  })
}, { name: 'users', dependencies: ['prisma', 'passwords'] })
