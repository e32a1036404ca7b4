// The links that mails carry: a password reset, an address to verify, a new address to confirm.
// Each holds a token of 256 random bits, of which only the SHA-256 is stored; it is good once,
// for its one purpose, until it expires, and only while the address it was sent to is still the
// one it concerns. The link puts it in the URL's fragment, which browsers send to no server
// (not this one's log, not another's Referer); the page reads it from there.
import { createHash, randomBytes } from 'node:crypto'
import { MailNotConfigured } from '../errors.js'
import type { Config } from '../config.js'
import type { MailTokenPurpose, MailTokenRecord, Store, Transaction } from '../store/index.js'
import { templates, type Mail, type MailKind } from './mail-templates.js'
import type { Job, Mailer } from './mailer.js'

export const hashMailToken = (token: string): string => createHash('sha256').update('authd mail token\0').update(token).digest('base64url')

/** A mail token as a client may present it: 43 characters of base64url. */
export const MAIL_TOKEN_PATTERN = '^[A-Za-z0-9_-]{43}$'

// Where each link lands on the page.
const FRAGMENT: Record<MailTokenPurpose, string> = {
  password_reset: 'reset-password',
  verify_email: 'verify-email',
  change_email: 'verify-email'
}

/** How long a notice (no link in it) may wait for the SMTP server before it is not worth sending. */
const NOTICE_TTL_MS = 3 * 24 * 3600_000

interface Account { id: string, username: string, email: string }

export interface MailTokensOptions {
  store: Pick<Store, 'mailTokens'>
  mailer: Mailer
  /** The origin links point at: PUBLIC_URL, never a request's Host header. */
  baseUrl: string
  config: Pick<Config, 'RESET_TOKEN_TTL' | 'EMAIL_TOKEN_TTL'>
  now?: () => number
}

export function createMailTokens ({ store, mailer, baseUrl, config, now = () => Date.now() }: MailTokensOptions) {
  const ttl = (purpose: MailTokenPurpose) => purpose === 'password_reset' ? config.RESET_TOKEN_TTL : config.EMAIL_TOKEN_TTL

  function mailFor (purpose: MailTokenPurpose, account: Account, to: string, url: string): Mail {
    return templates[purpose](to, account.username, url, ttl(purpose))
  }

  return {
    /** Whether mail can be sent; the flows that need it answer mail_not_configured when not. */
    configured: mailer.configured,

    /** Throws mail_not_configured unless mail can be sent. */
    requireMail (): void {
      if (!mailer.configured) throw new MailNotConfigured()
    },

    /**
     * In `tx`: a new token for `purpose`, superseding the account's earlier ones, and the mail
     * that carries it, to `to` (the account's address, or the new one of a change).
     */
    async issue (tx: Pick<Transaction, 'mailTokens' | 'outbox'>, account: Account, purpose: MailTokenPurpose, to = account.email): Promise<void> {
      const token = randomBytes(32).toString('base64url')
      const expiresAt = new Date(now() + ttl(purpose) * 1000)
      await tx.mailTokens.create({ hash: hashMailToken(token), userId: account.id, purpose, email: to, expiresAt })
      await mailer.enqueue(tx, purpose, mailFor(purpose, account, to, `${baseUrl}/#${FRAGMENT[purpose]}=${token}`), expiresAt)
    },

    /** In `tx`: a notice, a mail without a link. */
    async notify (tx: Pick<Transaction, 'outbox'>, kind: Exclude<MailKind, MailTokenPurpose>, mail: Mail): Promise<void> {
      await mailer.enqueue(tx, kind, mail, new Date(now() + NOTICE_TTL_MS))
    },

    /**
     * In `tx`: tells the user that a way of signing in to their account changed (`change`, a
     * sentence); nothing when the service cannot send mail or the user is gone.
     */
    async signInChanged (tx: Pick<Transaction, 'users' | 'outbox'>, userId: string, change: string): Promise<void> {
      if (!mailer.configured) return
      const user = await tx.users.get(userId)
      if (user !== null) await mailer.enqueue(tx, 'second_factor_changed', templates.second_factor_changed(user.email, user.username, change, new Date(now())), new Date(now() + NOTICE_TTL_MS))
    },

    /**
     * In `tx`: a job for after the answer (see onRequest), with `payload`, sealed like a mail;
     * dropped if not done by the time a `purpose` link issued now would expire.
     */
    request: (tx: Pick<Transaction, 'outbox'>, kind: string, payload: Record<string, unknown>, purpose: MailTokenPurpose): Promise<void> =>
      mailer.enqueueJob(tx, kind, payload, new Date(now() + ttl(purpose) * 1000)),

    /** What the jobs of `kind` do, in the transaction that removes them. */
    onRequest: (kind: string, job: Job): void => mailer.handle(kind, job),

    /** The token's record if it is good for one of `purposes` now, without using it. */
    find: (token: string, purposes: MailTokenPurpose[]): Promise<MailTokenRecord | null> =>
      store.mailTokens.find(hashMailToken(token), purposes, new Date(now())),

    /** In `tx`: uses the token up if it is good for one of `purposes`; its record, else null. */
    use: (tx: Pick<Transaction, 'mailTokens'>, token: string, purposes: MailTokenPurpose[]): Promise<MailTokenRecord | null> =>
      tx.mailTokens.use(hashMailToken(token), purposes, new Date(now())),

    /** Sends what the last transaction queued; call it once that has committed. */
    sent: mailer.kick,

    /** Deletes the tokens that expired a day ago or more. */
    purge: (): Promise<number> => store.mailTokens.purge(new Date(now() - 24 * 3600_000))
  }
}

export type MailTokens = ReturnType<typeof createMailTokens>
