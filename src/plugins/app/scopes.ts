// `app.requireScopes(...)`, the preHandler of a route that needs scopes: after authenticate
// (onRequest), a token without every one of them is a 403 insufficient_scope, whose
// WWW-Authenticate names the scopes (error handler). The hook carries its scopes, so that the
// OpenAPI document can show them (plugins/external/swagger.ts).
import fp from 'fastify-plugin'
import type { preHandlerHookHandler } from 'fastify'
import type { Scope } from '../../roles.js'
import { InsufficientScope } from '../../errors.js'

export type ScopeCheck = preHandlerHookHandler & { requiredScopes: Scope[] }

declare module 'fastify' {
  interface FastifyInstance {
    requireScopes (...scopes: Scope[]): ScopeCheck
  }
}

export default fp(async function scopes (app) {
  app.decorate('requireScopes', function (...scopes: Scope[]): ScopeCheck {
    const required = scopes.join(' ')
    // A callback hook, as authenticate is: no promise to allocate and await on every request.
    const check: preHandlerHookHandler = (request, _reply, done) => {
      const caller = request.caller
      done(caller !== null && scopes.every(scope => caller.scopes.includes(scope)) ? undefined : new InsufficientScope(required))
    }
    return Object.assign(check, { requiredScopes: scopes })
  })
}, { name: 'scopes' })
