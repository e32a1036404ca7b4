// `app.requireScopes(...)`, the preHandler of a route that needs scopes: after authenticate
// (onRequest), a token without every one of them is a 403 insufficient_scope, whose
// WWW-Authenticate names the scopes (error handler); or, when a missing one is of
// MFA_REQUIRED_SCOPES that the user's roles grant, and their session was opened without a
// second factor, a 401 insufficient_user_authentication (RFC 9470): the answer is to sign in
// again with one. (A user whom a second factor would not help gets the 403.) The hook carries its scopes, so that the
// OpenAPI document can show them (plugins/external/swagger.ts).
import fp from 'fastify-plugin'
import type { preHandlerHookHandler } from 'fastify'
import { grantedScopes, type Scope } from '../../roles.js'
import { InsufficientScope, InsufficientUserAuthentication } from '../../errors.js'

export type ScopeCheck = preHandlerHookHandler & { requiredScopes: Scope[] }

declare module 'fastify' {
  interface FastifyInstance {
    requireScopes (...scopes: Scope[]): ScopeCheck
  }
}

export default fp(async function scopes (app) {
  const needSecondFactor = new Set<string>(app.config.mfaRequiredScopes)
  app.decorate('requireScopes', function (...scopes: Scope[]): ScopeCheck {
    const required = scopes.join(' ')
    // A callback hook, as authenticate is: no promise to allocate and await on every request.
    const check: preHandlerHookHandler = (request, _reply, done) => {
      const caller = request.caller
      if (caller !== null && scopes.every(scope => caller.scopes.includes(scope))) return done()
      const withheld = caller?.kind === 'user' && !caller.secondFactor
        ? scopes.filter(scope => needSecondFactor.has(scope) && !caller.scopes.includes(scope))
        : []
      if (withheld.length === 0) return done(new InsufficientScope(required))
      // Only a refusal pays for this read (of the store's cache, mostly).
      app.store.users.get(caller!.id).then(user => {
        const grantable = grantedScopes(user?.roles ?? [])
        done(withheld.every(scope => grantable.includes(scope)) ? new InsufficientUserAuthentication() : new InsufficientScope(required))
      }, done)
    }
    return Object.assign(check, { requiredScopes: scopes })
  })
}, { name: 'scopes', dependencies: ['store'] })
