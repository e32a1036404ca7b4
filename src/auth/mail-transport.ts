// Where mail goes: an SMTP server (SMTP_URL, through nodemailer), or, outside production with no
// server configured, the log, so that every mailed flow can be tried with `npm start` alone.
import nodemailer from 'nodemailer'
import type { Mail } from './mail-templates.js'

export interface MailTransport {
  /** Resolves once the server has accepted the message; rejects with why it did not. */
  send (mail: Mail): Promise<void>
  close (): void
}

// Shorter than nodemailer's (two minutes to connect, ten of silence): a sender holds a message
// for MAIL_LEASE_MS, and a try must end well within it.
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000, dnsTimeout: 10_000 }

export function smtpTransport (url: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport({ url, ...TIMEOUTS } as Parameters<typeof nodemailer.createTransport>[0], { from })
  return {
    async send ({ to, subject, text, html }) {
      await transporter.sendMail({ to, subject, text, html })
    },
    close: () => transporter.close()
  }
}

export function logTransport (log: { info (details: object, message: string): void }): MailTransport {
  return {
    async send ({ to, subject, text }) {
      log.info({ mail: { to, subject, text } }, 'mail written to the log: SMTP_URL is not set')
    },
    close () {}
  }
}
