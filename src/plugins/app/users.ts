// Accounts: creation with its uniqueness rules, lookup by username or email, and the password
// check that answers in the same time whether or not the account exists.
import fp from 'fastify-plugin'
import bcrypt from 'bcryptjs'
import { Prisma } from '../../generated/prisma/client.js'
import type { User as PrismaUser } from '../../generated/prisma/client.js'
import type { User } from '../../store/rows.js'
import { createReads } from '../../store/reads.js'
import { DEFAULT_ROLES } from '../../roles.js'
import { EmailTaken, InvalidPassword, Overloaded, UsernameTaken, WrongPassword } from '../../errors.js'
import { passwordProblem } from '../../auth/password-rules.js'
import type { PasswordAttempt } from './password-attempts.js'

export type { User }

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
       * for the audit trail only, the id of the account the login named, if there is one. The
       * comparison takes a slot of `attempt` first (rate_limited). A session may be opened only
       * while the user's password is still at `passwordVersion`; `rehash`, a hash of the
       * password at today's BCRYPT_ROUNDS, is to be stored with it.
       */
      checkCredentials (login: string, password: string, attempt: PasswordAttempt): Promise<CheckedCredentials>
      /**
       * Throws wrong_password or invalid_password. The new hash is written in one transaction with
       * whatever `alongside` writes (ending the other sessions), and only if no other change
       * came first; its result is returned once committed.
       */
      changePassword<T> (userId: string, current: string, next: string, attempt: PasswordAttempt,
        alongside: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T>
    }
  }
}

export type CheckedCredentials =
  | { userId: null, accountId: string | null }
  | { userId: string, accountId: string, passwordVersion: number, rehash: string | undefined }

export const withRoles = { roles: { select: { role: true } } } as const

export function flattenUser (row: PrismaUser & { roles: Array<{ role: string }> }): User {
  return { ...row, roles: row.roles.map(r => r.role).sort() }
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
  const reads = createReads(app.sqlite)

  // A bcrypt comparison in one of the attempt's slots: a right password, or no comparison at
  // all (the pool overloaded), gives the slot back; a wrong one keeps it.
  async function compare (attempt: PasswordAttempt, accountId: string | null, login: string, password: string, hash: string | null) {
    const slot = attempt.take(accountId, login)
    let match: boolean | undefined
    try {
      match = await passwords.verify(password, hash)
      return match
    } finally {
      if (match !== false) slot.release()
    }
  }

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

    findById: (id: string) => reads.user(id),

    async checkCredentials (login: string, password: string, attempt: PasswordAttempt): Promise<CheckedCredentials> {
      // A flood of logins past what the pool can queue is refused before it costs a query.
      if (passwords.saturated()) throw new Overloaded()
      // The same single query whether or not the account exists, so that its time cannot tell.
      const row = await prisma.user.findUnique({
        where: loginFilter(login),
        select: { id: true, passwordHash: true, passwordVersion: true, disabled: true }
      })
      const match = await compare(attempt, row?.id ?? null, login, password, row?.passwordHash ?? null)
      const accountId = row?.id ?? null
      if (row === null || !match || row.disabled) return { userId: null, accountId }
      attempt.succeeded(row.id)
      // BCRYPT_ROUNDS was raised since this hash was made: upgrade it while the password is at hand.
      const rehash = bcrypt.getRounds(row.passwordHash) < app.config.BCRYPT_ROUNDS ? await passwords.hash(password) : undefined
      return { userId: row.id, accountId: row.id, passwordVersion: row.passwordVersion, rehash }
    },

    async changePassword<T> (userId: string, current: string, next: string, attempt: PasswordAttempt,
      alongside: (tx: Prisma.TransactionClient) => Promise<T>) {
      const row = await prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { passwordHash: true, passwordVersion: true } })
      if (!await compare(attempt, userId, '', current, row.passwordHash)) throw new WrongPassword()
      const problem = passwordProblem(next)
      if (problem !== undefined) throw new InvalidPassword(problem)
      const passwordHash = await passwords.hash(next)
      return await prisma.$transaction(async tx => {
        // Another change (or a reset) committed since the current password was checked: it was
        // checked against a password that is no longer the user's.
        const { count } = await tx.user.updateMany({
          where: { id: userId, passwordVersion: row.passwordVersion },
          data: { passwordHash, passwordVersion: { increment: 1 } }
        })
        if (count !== 1) throw new WrongPassword()
        return await alongside(tx)
      })
    }
  })
}, { name: 'users', dependencies: ['prisma', 'passwords'] })
