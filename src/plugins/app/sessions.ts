// Sessions (src/auth/sessions.ts): logins, refresh rotation, logout and revocation, signing
// with the app's JWT configuration.
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
    // (without options, @fastify/jwt signs with its one configured signer)
    sign: (claims, options) => app.jwt.sign(claims, options),
    verify: token => app.jwt.verify<AccessClaims & { exp: number }>(token),
    config: app.config,
    log: app.log
  }))
}, { name: 'sessions', dependencies: ['store', 'jwt', 'accounts', 'revocation'] })
