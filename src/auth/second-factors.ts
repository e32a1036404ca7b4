// Second factors: the TOTP authenticator with its recovery codes, set up, checked, turned off
// and reset, each change audited and told to the user's address. A code is a TOTP code (six
// digits, accepted once, one step of drift either side) or a recovery code (used once). The
// TOTP secret is sealed at rest under a key derived from the service secret.
import type { Client, Store, Transaction } from '../store/index.js'
import { InvalidCode, NotFound, TotpEnabled, TotpNotEnabled, TotpNotStarted } from '../errors.js'
import { createSealer } from './sealed.js'
import { isTotpCode, matchTotp, newTotpSecret, totpUri } from './totp.js'
import { RECOVERY_CODE_COUNT, hashRecoveryCode, newRecoveryCode } from './recovery-codes.js'
import { auditedAs, type Actor } from './admin.js'
import type { Accounts, PasswordAttempt } from './accounts.js'
import type { MailTokens } from './mail-tokens.js'

/** What a right code was. */
export type CodeKind = 'totp' | 'recovery_code'

/** The signed-in user a change is for, and where the request came from. */
export type Holder = Client & { id: string, sessionId: string }

export interface SecondFactorsOptions {
  store: Store
  accounts: Pick<Accounts, 'confirmPassword'>
  mailTokens: Pick<MailTokens, 'signInChanged' | 'sent'>
  /** The service secret: the TOTP secrets are sealed under a key derived from it. */
  secret: string
  /** The name authenticator apps show next to the account. */
  issuer: string
  now?: () => number
}

export function createSecondFactors ({ store, accounts, mailTokens, secret, issuer, now = () => Date.now() }: SecondFactorsOptions) {
  const sealer = createSealer(secret, 'totp secret')

  /** The time step whose code `code` is, for the user's (sealed) secret; undefined if none. */
  function stepOf (sealed: string, userId: string, code: string): number | undefined {
    const plain = sealer.open(sealed, userId)
    return plain === undefined ? undefined : matchTotp(plain, code, now())
  }

  /** In `tx`: the code's kind if it is right for the user, and uses it up; undefined otherwise. */
  async function check (tx: Pick<Transaction, 'secondFactors'>, userId: string, code: string): Promise<CodeKind | undefined> {
    const given = code.trim()
    if (isTotpCode(given)) {
      const totp = await tx.secondFactors.totp.get(userId)
      if (totp === null || totp.confirmedAt === null) return undefined
      const step = stepOf(totp.sealed, userId, given)
      return step !== undefined && await tx.secondFactors.totp.use(userId, step) ? 'totp' : undefined
    }
    return await tx.secondFactors.recoveryCodes.use(userId, hashRecoveryCode(given), new Date(now())) ? 'recovery_code' : undefined
  }

  async function totpOn (tx: Pick<Transaction, 'secondFactors'>, userId: string): Promise<boolean> {
    const totp = await tx.secondFactors.totp.get(userId)
    return totp !== null && totp.confirmedAt !== null
  }

  async function newRecoveryCodes (tx: Pick<Transaction, 'secondFactors'>, userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode)
    await tx.secondFactors.recoveryCodes.replace(userId, codes.map(hashRecoveryCode))
    return codes
  }

  /**
   * Runs `work` with a code checked in its transaction: a wrong one takes a slot of the
   * account's password limit (rate_limited), is audited, and throws invalid_code.
   */
  async function withCode<T> (holder: Holder, code: string, attempt: PasswordAttempt, work: (tx: Transaction, kind: CodeKind) => Promise<T>): Promise<T> {
    const slot = await attempt.take(holder.id, '')
    const { id: userId, sessionId, ip, userAgent } = holder
    let wrong = false
    try {
      const result = await store.transaction(async tx => {
        const kind = await check(tx, userId, code)
        if (kind === undefined) return { wrong: true as const }
        if (kind === 'recovery_code') await tx.audit.record({ type: 'mfa_recovery_code_used', userId, sessionId, ip, userAgent })
        return { wrong: false as const, value: await work(tx, kind) }
      })
      if (!result.wrong) return result.value
      wrong = true
    } finally {
      // A wrong code keeps its slot, as a wrong password does.
      if (!wrong) await slot.release()
    }
    await store.audit.record({ type: 'mfa_failed', userId, sessionId, ip, userAgent })
    throw new InvalidCode()
  }

  return {
    check,

    /** In `tx`: whether a login of this user must give a second factor. */
    required: totpOn,

    /** What the user has set up. */
    async status (userId: string): Promise<{ totp: boolean, recoveryCodes: number, passkeys: number }> {
      const [totp, recoveryCodes, passkeys] = await Promise.all([
        store.secondFactors.totp.get(userId),
        store.secondFactors.recoveryCodes.left(userId),
        store.secondFactors.passkeys.count(userId)
      ])
      return { totp: totp?.confirmedAt != null, recoveryCodes, passkeys }
    },

    /**
     * Starts setting up an authenticator app: a new secret, which works once a code of it is
     * confirmed. Starting again replaces one not yet confirmed; throws totp_enabled if one is on.
     */
    async startTotp (userId: string): Promise<{ secret: string, uri: string }> {
      const user = await store.users.get(userId)
      if (user === null) throw new NotFound('No such user')
      const plain = newTotpSecret()
      if (!await store.secondFactors.totp.begin(user.id, sealer.seal(plain, user.id))) throw new TotpEnabled()
      return { secret: plain, uri: totpUri(plain, issuer, user.username) }
    },

    /**
     * Turns the authenticator app on with a first code of it (throws invalid_code, or
     * totp_not_started / totp_enabled), and returns the recovery codes, which are shown this
     * once.
     */
    async confirmTotp (holder: Holder, code: string): Promise<string[]> {
      const { id: userId, sessionId, ip, userAgent } = holder
      const codes = await store.transaction(async tx => {
        const totp = await tx.secondFactors.totp.get(userId)
        if (totp === null) throw new TotpNotStarted()
        if (totp.confirmedAt !== null) throw new TotpEnabled()
        const step = stepOf(totp.sealed, userId, code.trim())
        if (step === undefined || !await tx.secondFactors.totp.confirm(userId, step, new Date(now()))) throw new InvalidCode()
        const codes = await newRecoveryCodes(tx, userId)
        await tx.audit.record({ type: 'mfa_enabled', userId, sessionId, ip, userAgent, detail: { method: 'totp' } })
        await mailTokens.signInChanged(tx, userId, 'An authenticator app was set up as the second factor of your account.')
        return codes
      })
      mailTokens.sent()
      return codes
    },

    /**
     * Turns the authenticator app off, and voids the recovery codes: needs the password and a
     * code (either kind). Throws wrong_password, invalid_code, totp_not_enabled, rate_limited.
     */
    async disableTotp (holder: Holder, password: string, code: string, attempt: PasswordAttempt): Promise<void> {
      await accounts.confirmPassword(holder.id, password, attempt)
      if (!await totpOn(store, holder.id)) throw new TotpNotEnabled()
      const { id: userId, sessionId, ip, userAgent } = holder
      await withCode(holder, code, attempt, async (tx, kind) => {
        await tx.secondFactors.totp.remove(userId)
        await tx.secondFactors.recoveryCodes.remove(userId)
        await tx.audit.record({ type: 'mfa_disabled', userId, sessionId, ip, userAgent, detail: { method: 'totp', with: kind } })
        await mailTokens.signInChanged(tx, userId, 'The authenticator app of your account was turned off, and its recovery codes no longer work.')
      })
      mailTokens.sent()
    },

    /** New recovery codes in place of the old set; needs the password. Throws wrong_password, totp_not_enabled. */
    async regenerateRecoveryCodes (holder: Holder, password: string, attempt: PasswordAttempt): Promise<string[]> {
      await accounts.confirmPassword(holder.id, password, attempt)
      const { id: userId, sessionId, ip, userAgent } = holder
      return await store.transaction(async tx => {
        if (!await totpOn(tx, userId)) throw new TotpNotEnabled()
        const codes = await newRecoveryCodes(tx, userId)
        await tx.audit.record({ type: 'mfa_recovery_codes_regenerated', userId, sessionId, ip, userAgent })
        return codes
      })
    },

    /**
     * An admin's reset: the user's authenticator app, recovery codes and passkeys go, so that
     * they can sign in with their password and set up anew. Audited; the user is told by mail.
     */
    async reset (actor: Actor, userId: string): Promise<{ totp: boolean, passkeys: number }> {
      const removed = await store.transaction(async tx => {
        if (await tx.users.get(userId) === null) throw new NotFound('No such user')
        const totp = await tx.secondFactors.totp.remove(userId)
        await tx.secondFactors.recoveryCodes.remove(userId)
        const passkeys = await tx.secondFactors.passkeys.removeAll(userId)
        await tx.audit.record({ type: 'mfa_reset', userId, ...auditedAs(actor), detail: { totp, passkeys } })
        if (totp || passkeys > 0) await mailTokens.signInChanged(tx, userId, 'An administrator removed the second factors of your account (authenticator app, recovery codes and passkeys).')
        return { totp, passkeys }
      })
      mailTokens.sent()
      return removed
    }
  }
}

export type SecondFactors = ReturnType<typeof createSecondFactors>
