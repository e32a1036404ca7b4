// The links that mails carry (src/auth/mail-tokens.ts), pointing at PUBLIC_URL; expired tokens
// purged every ten minutes.
import fp from 'fastify-plugin'
import { createMailTokens, type MailTokens } from '../../auth/mail-tokens.js'
import { every } from './every.js'

declare module 'fastify' {
  interface FastifyInstance {
    mailTokens: MailTokens
  }
}

export default fp(async function mailTokens (app) {
  const tokens = createMailTokens({ store: app.store, mailer: app.mailer, baseUrl: app.config.linkOrigin, config: app.config })
  app.decorate('mailTokens', tokens)
  every(app, 10 * 60_000, 'mail token purge', tokens.purge)
}, { name: 'mail-tokens', dependencies: ['store', 'mailer'] })
