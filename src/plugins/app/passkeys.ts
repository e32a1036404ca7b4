// Passkeys (src/auth/passkeys.ts): registered by signed-in users, a sign-in of their own.
import fp from 'fastify-plugin'
import { createPasskeys, type Passkeys } from '../../auth/passkeys.js'

declare module 'fastify' {
  interface FastifyInstance {
    passkeys: Passkeys
  }
}

export default fp(async function passkeys (app) {
  app.decorate('passkeys', createPasskeys({
    store: app.store,
    challenges: app.challenges,
    mailTokens: app.mailTokens,
    rpName: app.config.JWT_ISSUER
  }))
}, { name: 'passkeys', dependencies: ['store', 'challenges', 'mail-tokens'] })
