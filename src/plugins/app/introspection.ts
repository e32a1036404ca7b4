// Token introspection (src/auth/introspection.ts), with this service's access-token verifier.
import fp from 'fastify-plugin'
import { createIntrospection, type Introspection } from '../../auth/introspection.js'

declare module 'fastify' {
  interface FastifyInstance {
    introspection: Introspection
  }
}

export default fp(async function introspection (app) {
  app.decorate('introspection', createIntrospection({
    store: app.store,
    verifyAccessToken: token => app.verifyAccessToken(token, 'bearer'),
    liveClient: async id => await app.clients.live(id) !== null,
    signedIn: app.sessions.signedIn,
    issuer: app.config.JWT_ISSUER,
    audience: app.config.JWT_AUDIENCE
  }))
}, { name: 'introspection', dependencies: ['store', 'authenticate', 'clients', 'sessions'] })
