// The links that mails carry (src/auth/mail-tokens.ts), pointing at PUBLIC_URL; expired tokens
// purged every ten minutes.
import fp from 'fastify-plugin'
import { createMailTokens, type MailTokens } from '../../auth/mail-tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    mailTokens: MailTokens
  }
}

export default fp(async function mailTokens (app) {
  const tokens = createMailTokens({ store: app.store, mailer: app.mailer, baseUrl: app.config.linkOrigin, config: app.config })
  app.decorate('mailTokens', tokens)
  let timer: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      tokens.purge().catch(err => app.log.error({ err }, 'mail token purge failed'))
    }, 10 * 60_000).unref()
  })
  app.addHook('onClose', async () => clearInterval(timer))
}, { name: 'mail-tokens', dependencies: ['store', 'mailer'] })
