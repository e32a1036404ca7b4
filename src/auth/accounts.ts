// Accounts: registration with its uniqueness rules, the password check that answers in the same
// time whether or not the account exists, and the password change that ends the other sessions.
import bcrypt from 'bcryptjs'
import { DEFAULT_ROLES } from '../roles.js'
import { EmailTaken, InvalidPassword, Overloaded, UsernameTaken, WrongPassword } from '../errors.js'
import { MAX_PASSWORD_BYTES, passwordProblem } from './password-rules.js'
import type { Client, Store, User } from '../store/index.js'
import type { Revocation } from './revocation.js'
import type { Passwords } from './passwords.js'
import type { MailTokens } from './mail-tokens.js'
import { templates } from './mail-templates.js'

/** One request's password checks: take() before each comparison, succeeded() after a right one. */
export interface PasswordAttempt {
  /**
   * Takes a slot for one comparison against the account (null when the login names none, and
   * `login` keys the count). Throws rate_limited; release() when the password was right or the
   * comparison did not happen.
   */
  take (accountId: string | null, login: string): Promise<{ release (): void | Promise<void> }>
  /** The password was right: from now on this device is known to the account. */
  succeeded (accountId: string): void | Promise<void>
}

export interface NewUser {
  username: string
  email: string
  password: string
  roles?: string[]
}

export type CheckedCredentials =
  | { userId: null, accountId: string | null }
  | { userId: string, accountId: string, passwordVersion: number, rehash: string | undefined }

export interface AccountsOptions {
  store: Store
  passwords: Pick<Passwords, 'hash' | 'verify' | 'saturated'>
  revocation: Revocation
  mailTokens: MailTokens
  bcryptRounds: number
}

export function createAccounts ({ store, passwords, revocation, mailTokens, bcryptRounds }: AccountsOptions) {
  // A bcrypt comparison in one of the attempt's slots: a right password, or no comparison at
  // all (the pool overloaded), gives the slot back; a wrong one keeps it.
  async function compare (attempt: PasswordAttempt, accountId: string | null, login: string, password: string, hash: string | null) {
    const slot = await attempt.take(accountId, login)
    let match: boolean | undefined
    try {
      match = await passwords.verify(password, hash)
      return match
    } finally {
      if (match !== false) await slot.release()
    }
  }

  /** The signed-in user's account, if `password` is theirs; throws wrong_password (and rate_limited). */
  async function confirmPassword (userId: string, password: string, attempt: PasswordAttempt): Promise<User> {
    const account = await store.users.get(userId)
    if (account === null || !await compare(attempt, userId, '', password, account.passwordHash)) throw new WrongPassword()
    return account
  }

  return {
    /**
     * Creates an account and records it, `via` the registration endpoint or the CLI. Throws
     * invalid_password, username_taken or email_taken. A registration mails a link to verify the
     * address (when the service can send mail); an operator's account is taken as verified.
     */
    async register ({ username, email, password, roles = DEFAULT_ROLES }: NewUser, via: { via: 'register' | 'cli' } & Partial<Client>): Promise<User> {
      const problem = await passwordProblem(password)
      if (problem !== undefined) throw new InvalidPassword(problem)
      username = username.toLowerCase()
      email = email.toLowerCase()
      // Spare the bcrypt work when the answer is already known; the unique indexes still
      // decide races between two registrations of the same name.
      const known = await store.users.taken(username, email)
      if (known !== undefined) throw known === 'username_taken' ? new UsernameTaken() : new EmailTaken()

      const passwordHash = await passwords.hash(password)
      const { via: how, ...client } = via
      const verify = how === 'register' && mailTokens.configured
      const user = await store.transaction(async tx => {
        const created = await tx.users.create({ username, email, passwordHash, roles, emailVerified: how === 'cli' })
        if (typeof created === 'string') return created
        await tx.audit.record({ type: 'user_created', userId: created.id, ...client, detail: { via: how, roles: created.roles } })
        if (verify) await mailTokens.issue(tx, created, 'verify_email')
        return created
      })
      if (user === 'username_taken') throw new UsernameTaken()
      if (user === 'email_taken') throw new EmailTaken()
      if (verify) mailTokens.sent()
      return user
    },

    /**
     * The id of the enabled user with this username (or email) and password, else null; and,
     * for the audit trail only, the id of the account the login named, if there is one. The
     * comparison takes a slot of `attempt` first (rate_limited). A session may be opened only
     * while the user's password is still at `passwordVersion`; `rehash`, a hash of the password
     * at today's BCRYPT_ROUNDS, is to be stored with it.
     */
    async checkCredentials (login: string, password: string, attempt: PasswordAttempt): Promise<CheckedCredentials> {
      // bcrypt would compare only the first 72 bytes: such a password was never accepted.
      if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return { userId: null, accountId: null }
      // A flood of logins past what the pool can queue is refused before it costs a query.
      if (passwords.saturated()) throw new Overloaded()
      // The same single query whether or not the account exists, so that its time cannot tell.
      const row = await store.users.byLogin(login)
      const accountId = row?.id ?? null
      const match = await compare(attempt, accountId, login, password, row?.passwordHash ?? null)
      if (row === null || !match || row.disabled) return { userId: null, accountId }
      await attempt.succeeded(row.id)
      // BCRYPT_ROUNDS was raised since this hash was made: upgrade it while the password is at hand.
      const rehash = bcrypt.getRounds(row.passwordHash) < bcryptRounds ? await passwords.hash(password) : undefined
      return { userId: row.id, accountId: row.id, passwordVersion: row.passwordVersion, rehash }
    },

    confirmPassword,

    /**
     * Throws wrong_password or invalid_password. The new hash, the end of every other session,
     * the audit event and the notice to the user's address are one transaction, written only if
     * no other change came first: a login checked against the old password cannot open a
     * session after it.
     */
    async changePassword (user: { id: string, sessionId: string }, current: string, next: string, attempt: PasswordAttempt, client: Client): Promise<void> {
      const account = await confirmPassword(user.id, current, attempt)
      const problem = await passwordProblem(next)
      if (problem !== undefined) throw new InvalidPassword(problem)
      const passwordHash = await passwords.hash(next)
      await revocation.change(async tx => {
        // Another change committed since the current password was checked: it was checked
        // against a password that is no longer the user's.
        if (!await tx.users.replacePassword(user.id, account.passwordVersion, passwordHash)) throw new WrongPassword()
        const denied = await revocation.endSessions(tx, { userId: user.id, except: user.sessionId })
        await tx.audit.record({ type: 'password_changed', userId: user.id, sessionId: user.sessionId, ...client, detail: { sessionsEnded: denied.length } })
        if (mailTokens.configured) await mailTokens.notify(tx, 'password_changed', templates.password_changed(account.email, account.username, new Date()))
        return { result: undefined, denied }
      })
      mailTokens.sent()
    }
  }
}

export type Accounts = ReturnType<typeof createAccounts>
