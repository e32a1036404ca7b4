// Password reset, address verification and change, by mail (src/auth/recovery.ts).
import fp from 'fastify-plugin'
import { createRecovery, type Recovery } from '../../auth/recovery.js'

declare module 'fastify' {
  interface FastifyInstance {
    recovery: Recovery
  }
}

export default fp(async function recovery (app) {
  app.decorate('recovery', createRecovery({
    store: app.store,
    revocation: app.revocation,
    passwords: app.passwords,
    accounts: app.accounts,
    mailTokens: app.mailTokens,
    config: app.config
  }))
}, { name: 'recovery', dependencies: ['store', 'revocation', 'passwords', 'accounts', 'mail-tokens'] })
