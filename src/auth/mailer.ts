// The outbox: a mail is written in the transaction of the change it tells of (a reset token, a
// new address), and sent after the request has been answered, by whichever instance takes it
// first. The SMTP server down or refusing, the message waits and is tried again, with backoff,
// until its link has expired. A process that dies while sending leaves the message to be taken
// again once its hold ends; the one thing SMTP cannot promise is that such a message arrives only
// once (the server may have accepted it just before the crash).
// A job may wait there too: work a request must not do while the client waits (looking up whose
// an address is, so that the answer's time cannot tell), done in a transaction of its own that
// also removes it.
import { randomUUID } from 'node:crypto'
import type { OutboxMessage, Store, Transaction } from '../store/index.js'
import type { Mail, MailKind } from './mail-templates.js'
import type { MailTransport } from './mail-transport.js'
import { createSealer } from './sealed.js'

/** How long a sender holds the messages it took: longer than any try can last. */
export const MAIL_LEASE_MS = 2 * 60_000
/** How often each instance looks for messages others left, or that fell due. */
export const MAIL_POLL_MS = 10_000
const BATCH = 10
const FIRST_RETRY_MS = 1000
const LAST_RETRY_MS = 5 * 60_000

/** The wait before try `attempts + 1`: doubling from a second to five minutes, with a little jitter. */
export function retryDelay (attempts: number, random = Math.random()): number {
  const base = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1))
  return Math.round(base * (1 + 0.2 * random))
}

// What is worth logging of a failure: the server's reply code and text, never the message.
function describe (err: unknown): string {
  const { responseCode, response, code, message } = err as { responseCode?: number, response?: string, code?: string, message?: string }
  return responseCode !== undefined ? `${responseCode} ${response ?? ''}`.trim() : [code, message].filter(Boolean).join(': ') || 'unknown error'
}

/** Work a job does with what was queued, in the transaction that removes it. */
export type Job = (payload: Record<string, unknown>, tx: Transaction) => Promise<void>

export interface MailerOptions {
  store: Pick<Store, 'outbox' | 'transaction'>
  /** Undefined when the service has no way to send mail (production without SMTP_URL). */
  transport: MailTransport | undefined
  /** The service secret: the outbox's messages are sealed under a key derived from it. */
  secret: string
  log: { info (details: object, message: string): void, warn (details: object, message: string): void, error (details: object, message: string): void }
  now?: () => number
}

export function createMailer ({ store, transport, secret, log, now = () => Date.now() }: MailerOptions) {
  const sealer = createSealer(secret, 'mail outbox, aes-256-gcm')
  let running: Promise<void> | undefined
  let again = false
  let stopped = true
  let timer: NodeJS.Timeout | undefined
  const jobs = new Map<string, Job>()

  async function retry (message: OutboxMessage, at: number, err: unknown, what: string): Promise<void> {
    const delay = retryDelay(message.attempts)
    const reason = describe(err)
    await store.outbox.retryAt(message.id, new Date(at + delay), reason)
    log.warn({ mailId: message.id, kind: message.kind, attempts: message.attempts, retryInMs: delay, reason }, `${what}; will retry`)
  }

  async function deliver (message: OutboxMessage): Promise<void> {
    const at = now()
    if (message.expiresAt.getTime() <= at) {
      await store.outbox.remove(message.id)
      log.warn({ mailId: message.id, kind: message.kind, attempts: message.attempts - 1 }, 'mail dropped unsent: its link expired while the SMTP server could not take it')
      return
    }
    const text = sealer.open(message.sealed, message.id)
    if (text === undefined) {
      await store.outbox.remove(message.id)
      log.error({ mailId: message.id, kind: message.kind }, 'mail dropped: it was sealed under another JWT_SECRET')
      return
    }
    const job = jobs.get(message.kind)
    if (job !== undefined) {
      try {
        await store.transaction(async tx => {
          await job(JSON.parse(text) as Record<string, unknown>, tx)
          await tx.outbox.remove(message.id)
        })
      } catch (err) {
        await retry(message, at, err, 'mail job failed')
      }
      return
    }
    try {
      await transport!.send(JSON.parse(text) as Mail)
    } catch (err) {
      await retry(message, at, err, 'mail not sent')
      return
    }
    await store.outbox.remove(message.id)
    log.info({ mailId: message.id, kind: message.kind, attempts: message.attempts }, 'mail sent')
  }

  async function drain (): Promise<void> {
    for (;;) {
      const at = now()
      const batch = await store.outbox.take(at, at + MAIL_LEASE_MS, BATCH)
      if (batch.length === 0) return
      await Promise.all(batch.map(deliver))
    }
  }

  // The next look: when the earliest message falls due, and at least every MAIL_POLL_MS.
  async function schedule (): Promise<void> {
    const due = await store.outbox.nextDue().catch(() => undefined)
    if (stopped) return
    const wait = due === undefined ? MAIL_POLL_MS : Math.min(MAIL_POLL_MS, Math.max(0, due.getTime() - now()))
    clearTimeout(timer)
    timer = setTimeout(kick, wait).unref()
  }

  /** Sends what is due now, after what is being sent; never throws. */
  function kick (): void {
    if (stopped) return
    if (running !== undefined) {
      again = true
      return
    }
    running = drain()
      .catch(err => log.error({ err }, 'mail outbox: cannot read the database; will retry'))
      .then(() => {
        running = undefined
        if (again) {
          again = false
          kick()
        } else {
          return schedule()
        }
      })
  }

  async function add (tx: Pick<Transaction, 'outbox'>, kind: string, content: object, expiresAt: Date): Promise<void> {
    const id = randomUUID()
    await tx.outbox.add({ id, kind, sealed: sealer.seal(JSON.stringify(content), id), expiresAt })
  }

  return {
    /** Whether mail can be sent at all. */
    configured: transport !== undefined,

    /** Adds `mail` to the outbox in `tx`; kick() once it has committed. It is dropped unsent after `expiresAt`. */
    enqueue: (tx: Pick<Transaction, 'outbox'>, kind: MailKind, mail: Mail, expiresAt: Date): Promise<void> => add(tx, kind, mail, expiresAt),

    /** Adds a job of `kind` (see handle()) to the outbox in `tx`, with `payload`, sealed like a mail. */
    enqueueJob: (tx: Pick<Transaction, 'outbox'>, kind: string, payload: Record<string, unknown>, expiresAt: Date): Promise<void> => add(tx, kind, payload, expiresAt),

    /** What to do with the jobs of `kind`; register it before start(). */
    handle (kind: string, job: Job): void {
      jobs.set(kind, job)
    },

    kick,

    /** Starts sending: what waits now, then whatever falls due. Without a transport, messages wait. */
    start (): void {
      if (transport === undefined) return
      stopped = false
      kick()
    },

    /** Stops taking messages and waits for the tries under way. */
    async stop (): Promise<void> {
      stopped = true
      clearTimeout(timer)
      await running
      transport?.close()
    }
  }
}

export type Mailer = ReturnType<typeof createMailer>
