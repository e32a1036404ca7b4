// The TOTP authenticator and recovery codes of each user (src/auth/second-factors.ts).
import fp from 'fastify-plugin'
import { createSecondFactors, type SecondFactors } from '../../auth/second-factors.js'

declare module 'fastify' {
  interface FastifyInstance {
    secondFactors: SecondFactors
  }
}

export default fp(async function secondFactors (app) {
  app.decorate('secondFactors', createSecondFactors({
    store: app.store,
    accounts: app.accounts,
    mailTokens: app.mailTokens,
    secret: app.config.JWT_SECRET,
    issuer: app.config.JWT_ISSUER
  }))
}, { name: 'second-factors', dependencies: ['store', 'accounts', 'mail-tokens'] })
