// What a user does by mail: a forgotten password reset, an address verified, an address changed.
// The flows that start from an address answer the same whether or not an account has it, and
// do the same work before answering either way, so that neither the answer nor its time tells;
// each is limited per address as well as per client address (by the routes).
import { createHash } from 'node:crypto'
import { EmailTaken, InvalidMailToken, InvalidPassword, InvalidRequest, NotFound, RateLimited } from '../errors.js'
import type { Config } from '../config.js'
import type { Client, Store, Transaction } from '../store/index.js'
import { createSharedWindow, createSlidingWindow, type Slot } from './limits.js'
import { passwordProblem } from './password-rules.js'
import { templates } from './mail-templates.js'
import type { Accounts, PasswordAttempt } from './accounts.js'
import { auditedAs, type Actor } from './admin.js'
import type { MailTokens } from './mail-tokens.js'
import type { Passwords } from './passwords.js'
import type { Revocation } from './revocation.js'

export interface RecoveryOptions {
  store: Store
  revocation: Revocation
  passwords: Pick<Passwords, 'hash'>
  accounts: Pick<Accounts, 'confirmPassword'>
  mailTokens: MailTokens
  config: Pick<Config, 'RATE_LIMIT_MAIL'>
  now?: () => number
}

export function createRecovery ({ store, revocation, passwords, accounts, mailTokens, config, now = () => Date.now() }: RecoveryOptions) {
  // Mails per address, whoever asks: no one can flood an inbox through this service. Counted in
  // the database when instances share one, so that each instance does not allow its own count.
  const window = { limit: config.RATE_LIMIT_MAIL, windowMs: 3600_000 }
  const perAddress = store.shared ? createSharedWindow(store, window) : createSlidingWindow(window)
  // The key names no address: the database keeps the count, not who was written to.
  const addressKey = (email: string) => 'mail:' + createHash('sha256').update(email).digest('base64url')

  async function takeMailSlot (email: string): Promise<void> {
    const slot: Slot = await perAddress.take(addressKey(email), now())
    if (!slot.ok) throw new RateLimited(slot.retryAfter)
  }

  // A request for a link by address: the answer must not tell whether an account has the address,
  // by its body or by its time. So the request only queues a job, the same whatever the address
  // (one row, in one transaction: acknowledged, it is not lost); the job, after the answer, looks
  // the address up and, if an enabled account has it (unverified, for a verification), issues
  // the link and queues its mail.
  const requestKind = { password_reset: 'password_reset_request', verify_email: 'verify_email_request' } as const

  async function mailByAddress (rawEmail: string, purpose: 'password_reset' | 'verify_email', client: Client): Promise<void> {
    mailTokens.requireMail()
    const email = rawEmail.toLowerCase()
    await takeMailSlot(email)
    await store.transaction(tx => mailTokens.request(tx, requestKind[purpose], { email, ip: client.ip, userAgent: client.userAgent }, purpose))
    mailTokens.sent()
  }

  for (const purpose of ['password_reset', 'verify_email'] as const) {
    mailTokens.onRequest(requestKind[purpose], async ({ email, ip, userAgent }, tx) => {
      const account = await tx.users.byEmail(String(email))
      const wanted = account !== null && !account.disabled && (purpose === 'password_reset' || !account.emailVerified)
      if (wanted) await mailTokens.issue(tx, account, purpose)
      await tx.audit.record({
        type: purpose === 'password_reset' ? 'password_reset_requested' : 'email_verification_requested',
        userId: account?.id ?? null,
        ip: ip as string | null,
        userAgent: userAgent as string | null,
        detail: { sent: wanted }
      })
    })
  }

  // Uses a mailed token in `tx` for the account it was sent for, if that account is enabled and
  // the address still the one the token concerns; throws invalid_mail_token otherwise (and the
  // transaction's rollback leaves the token as it was).
  async function redeem (tx: Transaction, token: string, purposes: Array<'password_reset' | 'verify_email' | 'change_email'>) {
    const used = await mailTokens.use(tx, token, purposes)
    const user = used === null ? null : await tx.users.get(used.userId)
    if (used === null || user === null || user.disabled) throw new InvalidMailToken()
    if (used.purpose !== 'change_email' && user.email !== used.email) throw new InvalidMailToken()
    return { used, user }
  }

  return {
    /** Mails a reset link to the account with this address, if any; the same answer either way. */
    forgotPassword: (email: string, client: Client) => mailByAddress(email, 'password_reset', client),

    /** Mails a new verification link to the account with this address, if it is unverified. */
    resendVerification: (email: string, client: Client) => mailByAddress(email, 'verify_email', client),

    /**
     * Sets a new password with a reset token: the token used up, every session ended, the
     * address taken as verified (the link reached it), an audit event and a notice by mail, in
     * one transaction. Throws invalid_mail_token, invalid_password or overloaded.
     */
    async resetPassword (token: string, newPassword: string, client: Client): Promise<void> {
      const problem = await passwordProblem(newPassword)
      if (problem !== undefined) throw new InvalidPassword(problem)
      // A bcrypt hash only for a token that may work: bad tokens cost a lookup, not a hash.
      if (await mailTokens.find(token, ['password_reset']) === null) throw new InvalidMailToken()
      const passwordHash = await passwords.hash(newPassword)
      await revocation.change(async tx => {
        const { user } = await redeem(tx, token, ['password_reset'])
        // Inside this transaction the version read is the current one; a login that checked the
        // old password cannot open its session after this commits (src/auth/sessions.ts).
        await tx.users.replacePassword(user.id, user.passwordVersion, passwordHash)
        if (!user.emailVerified) await tx.users.setEmailVerified(user.id, true)
        const denied = await revocation.endSessions(tx, { userId: user.id })
        await tx.audit.record({ type: 'password_reset', userId: user.id, ...client, detail: { sessionsEnded: denied.length } })
        await mailTokens.notify(tx, 'password_changed', templates.password_changed(user.email, user.username, new Date(now())))
        return { result: undefined, denied }
      })
      mailTokens.sent()
    },

    /**
     * Follows a verification link (the address is verified) or a change link (the account takes
     * the new address, verified). Throws invalid_mail_token, or email_taken when another account
     * took the new address meanwhile.
     */
    verifyEmail: (token: string, client: Client): Promise<{ email: string, changed: boolean }> => store.transaction(async tx => {
      const { used, user } = await redeem(tx, token, ['verify_email', 'change_email'])
      if (used.purpose === 'verify_email') {
        await tx.users.setEmailVerified(user.id, true)
        await tx.audit.record({ type: 'email_verified', userId: user.id, ...client })
        return { email: user.email, changed: false }
      }
      // (Links sent to the old address stop working with it: redeem() checks the address.)
      if (await tx.users.changeEmail(user.id, used.email) === 'email_taken') throw new EmailTaken()
      await tx.audit.record({ type: 'email_changed', userId: user.id, ...client, detail: { from: user.email, to: used.email } })
      return { email: used.email, changed: true }
    }),

    /**
     * Asks to change the signed-in user's address: a link to confirm it goes to the new address,
     * a notice to the old one; nothing changes until the link is followed. Throws wrong_password,
     * email_taken, invalid_request (the address is already theirs) or rate_limited.
     */
    async requestEmailChange (user: { id: string, sessionId: string }, rawEmail: string, password: string, attempt: PasswordAttempt, client: Client): Promise<void> {
      mailTokens.requireMail()
      const account = await accounts.confirmPassword(user.id, password, attempt)
      const email = rawEmail.toLowerCase()
      if (email === account.email) throw new InvalidRequest('That is already your address')
      if (await store.users.byEmail(email) !== null) throw new EmailTaken()
      await takeMailSlot(email)
      await store.transaction(async tx => {
        await mailTokens.issue(tx, account, 'change_email', email)
        await mailTokens.notify(tx, 'email_change_requested', templates.email_change_requested(account.email, account.username, email))
        await tx.audit.record({ type: 'email_change_requested', userId: account.id, sessionId: user.sessionId, ...client, detail: { to: email } })
      })
      mailTokens.sent()
    },

    /** An admin's request: a reset link to the user's address. Throws not_found, or invalid_request for a disabled user. */
    async sendReset (actor: Actor, userId: string): Promise<void> {
      mailTokens.requireMail()
      await store.transaction(async tx => {
        const user = await tx.users.get(userId)
        if (user === null) throw new NotFound('No such user')
        if (user.disabled) throw new InvalidRequest('The user is disabled: a reset link would not work; enable them first')
        await mailTokens.issue(tx, user, 'password_reset')
        await tx.audit.record({ type: 'password_reset_requested', userId, ...auditedAs(actor), detail: { sent: true } })
      })
      mailTokens.sent()
    }
  }
}

export type Recovery = ReturnType<typeof createRecovery>
