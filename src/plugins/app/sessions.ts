// Sessions (src/auth/sessions.ts): logins (with their second step), refresh rotation, logout and revocation, signing
// with the service's signing keys.
import fp from 'fastify-plugin'
import { createSessions, type AccessClaims, type Sessions } from '../../auth/sessions.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: Sessions
  }
}

export default fp(async function sessions (app) {
  app.decorate('sessions', createSessions({
    store: app.store,
    accounts: app.accounts,
    revocation: app.revocation,
    secondFactors: app.secondFactors,
    challenges: app.challenges,
    sign: app.accessTokens.sign,
    verify: token => app.accessTokens.verify<AccessClaims & { exp: number }>(token),
    config: app.config,
    log: app.log,
    outcomes: app.metrics
  }))
}, { name: 'sessions', dependencies: ['store', 'access-tokens', 'accounts', 'revocation', 'second-factors', 'challenges', 'metrics'] })
