// A real SMTP server on loopback (the smtp-server package) that receives what the service sends,
// and the messages it received, parsed (mailparser), with the link each carries.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { SMTPServer, type SMTPServerSession } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'

export interface Received {
  to: string
  from: string
  subject: string
  text: string
  html: string
  /** The token of the link in it, if any, and where the link points. */
  link?: { url: string, kind: string, token: string }
}

function linkOf (text: string): Received['link'] {
  const match = /(\S+)\/#(reset-password|verify-email)=([A-Za-z0-9_-]+)/.exec(text)
  return match === null ? undefined : { url: match[0], kind: match[2], token: match[3] }
}

const address = (field: ParsedMail['to'] | ParsedMail['from']) =>
  (Array.isArray(field) ? field[0] : field)?.value[0]?.address ?? ''

export interface SmtpOptions {
  /** An SMTP reply code to refuse each recipient with while set (451: try later, 550: no). */
  refuse?: number
  port?: number
}

/** Starts an SMTP server; stopped at the test's end. */
export async function smtpServer (t: Test, options: SmtpOptions = {}) {
  const received: Received[] = []
  const waiting: Array<() => void> = []
  let refuse = options.refuse
  let attempts = 0
  // While holding, each recipient waits for release(): a server that has not answered yet.
  let holding = false
  const held: Array<() => void> = []
  const server = new SMTPServer({
    authOptional: true,
    // Plain SMTP on loopback: nodemailer would otherwise upgrade to the server's self-signed TLS.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo (_address, _session: SMTPServerSession, callback) {
      attempts++
      if (holding) {
        held.push(() => callback())
        return
      }
      if (refuse === undefined) return callback()
      const err = Object.assign(new Error(refuse >= 500 ? 'Mailbox unavailable' : 'Try again later'), { responseCode: refuse })
      callback(err)
    },
    onData (stream, _session, callback) {
      simpleParser(stream).then(mail => {
        const text = mail.text ?? ''
        received.push({ to: address(mail.to), from: address(mail.from), subject: mail.subject ?? '', text, html: typeof mail.html === 'string' ? mail.html : '', link: linkOf(text) })
        for (const wake of waiting.splice(0)) wake()
        callback()
      }, callback)
    }
  })
  server.listen(options.port ?? 0, '127.0.0.1')
  await once(server.server, 'listening')
  const { port } = server.server.address() as AddressInfo
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
  t.teardown(close)

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    /** How many recipients the server was offered, refused ones included. */
    attempts: () => attempts,
    refuse (code: number | undefined) { refuse = code },
    hold () { holding = true },
    release () {
      holding = false
      for (const answer of held.splice(0)) answer()
    },
    close,
    /**
     * The `n`th message ever to arrive for `to` (any recipient when undefined), of `subject` if
     * given, waiting up to `timeoutMs`.
     */
    async mail (to: string | undefined, n = 1, { subject, timeoutMs = 10_000 }: { subject?: string, timeoutMs?: number } = {}): Promise<Received> {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const mails = received.filter(mail => (to === undefined || mail.to === to) && (subject === undefined || mail.subject === subject))
        if (mails.length >= n) return mails[n - 1]
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`mail ${n} to ${to ?? 'anyone'} did not arrive within ${timeoutMs} ms (${mails.length} did)`)
        await new Promise<void>(resolve => {
          const timer = setTimeout(resolve, left)
          waiting.push(() => { clearTimeout(timer); resolve() })
        })
      }
    },
    /** The messages received for `to`. */
    to: (to: string) => received.filter(mail => mail.to === to)
  }
}

export type SmtpServer = Awaited<ReturnType<typeof smtpServer>>

/** Resolves once the app's outbox is empty: every mail sent, every job done (a 5 s limit). */
export async function drained (app: { store: { prisma: { mailMessage: { count (): Promise<number> } } } }): Promise<void> {
  const deadline = Date.now() + 5000
  while (await app.store.prisma.mailMessage.count() > 0) {
    if (Date.now() > deadline) throw new Error('the outbox did not drain within 5 s')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
