// The mail outbox and its sender (src/auth/mailer.ts): SMTP_URL's server, or, outside production
// without one, the log. Sending starts once the app is ready and stops, after the tries under
// way, when it closes.
import fp from 'fastify-plugin'
import { createMailer, type Mailer } from '../../auth/mailer.js'
import { logTransport, smtpTransport } from '../../auth/mail-transport.js'

declare module 'fastify' {
  interface FastifyInstance {
    mailer: Mailer
  }
}

export default fp(async function mailer (app) {
  const { SMTP_URL, MAIL_FROM, NODE_ENV, JWT_SECRET } = app.config
  const transport = SMTP_URL !== ''
    ? smtpTransport(SMTP_URL, MAIL_FROM)
    : NODE_ENV === 'production' ? undefined : logTransport(app.log.child({ component: 'mail' }))
  const mailer = createMailer({ store: app.store, transport, secret: JWT_SECRET, log: app.log.child({ component: 'mail' }) })
  app.decorate('mailer', mailer)
  app.metrics.source('mailOutboxPending', () => app.store.outbox.pending())
  app.addHook('onReady', async () => { mailer.start() })
  app.addHook('onClose', async () => { await mailer.stop() })
}, { name: 'mailer', dependencies: ['store', 'metrics'] })
