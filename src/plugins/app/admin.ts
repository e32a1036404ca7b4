// The admin API's domain (src/auth/admin.ts): accounts, their sessions, the audit trail.
import fp from 'fastify-plugin'
import { createAdmin, type Admin } from '../../auth/admin.js'

declare module 'fastify' {
  interface FastifyInstance {
    admin: Admin
  }
}

export default fp(async function admin (app) {
  app.decorate('admin', createAdmin({ store: app.store, revocation: app.revocation }))
}, { name: 'admin', dependencies: ['store', 'revocation'] })
