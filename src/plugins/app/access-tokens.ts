// `app.accessTokens`: @fastify/jwt's signer and verifier (plugins/external/jwt.ts holds the
// policy: typ, issuer, audience, required claims, lifetime) with this service's signing keys.
// A token is verified only with the key its `kid` names in the service's own key set, and only
// with that key's algorithm: `alg: none`, a token signed HS256 with a public key's bytes, an
// unknown `kid`, or one of another type of key, all fail. The `jwk`, `jku`, `x5u` and `x5c`
// headers are never read.
import fp from 'fastify-plugin'
import type { AccessClaims } from '../../auth/sessions.js'
import { ACCESS_TOKEN_TYPE } from '../external/jwt.js'

declare module 'fastify' {
  interface FastifyInstance {
    accessTokens: {
      /** Signs with the key that signs now; `expiresIn` (seconds) when shorter than the TTL. */
      sign (claims: AccessClaims, options?: { expiresIn: number }): string
      /** The claims of a token this service signed with a key it still verifies; throws a FAST_JWT_* error otherwise. */
      verify<T = AccessClaims & { exp: number }> (token: string): T & { kid?: string }
    }
  }
}

class UnknownKey extends Error {
  code = 'FAST_JWT_INVALID_KEY'
}

/** The `kid` of a token's header, or undefined; throws on a header that is not a JSON object. */
function kidOf (token: string): string | undefined {
  const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString()) as unknown
  if (typeof header !== 'object' || header === null) throw new UnknownKey('The token header is not an object')
  const { kid } = header as { kid?: unknown }
  if (kid !== undefined && typeof kid !== 'string') throw new UnknownKey('The token\'s kid is not a string')
  return kid
}

export default fp(async function accessTokens (app) {
  const keys = app.signingKeys
  app.decorate('accessTokens', {
    sign (claims: AccessClaims, options?: { expiresIn: number }): string {
      const { kid, alg, key } = keys.signer()
      return app.jwt.sign(claims, { ...options, key, algorithm: alg, kid, header: { alg, typ: ACCESS_TOKEN_TYPE } })
    },

    verify<T> (token: string): T & { kid?: string } {
      let kid: string | undefined
      try {
        kid = kidOf(token)
      } catch (err) {
        throw err instanceof UnknownKey ? err : new UnknownKey('The token header is malformed')
      }
      const key = keys.verifier(kid)
      if (key === undefined) throw new UnknownKey('No key of this service has this kid')
      return { ...app.jwt.verify<Record<string, unknown>>(token, { key: key.key, algorithms: [key.alg] }), kid } as T & { kid?: string }
    }
  })
}, { name: 'access-tokens', dependencies: ['jwt', 'signing-keys'] })
