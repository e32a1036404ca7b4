// `app.accessTokens`: this service's signing keys with the access-token policy of
// plugins/external/jwt.ts (typ, issuer, audience, required claims, lifetime). Verification is
// @fastify/jwt's, given the key and algorithm at each call: it runs once per token (authenticate
// remembers verified tokens). Signing runs at every login and refresh, and @fastify/jwt, given a
// key at the call, builds a signer and parses the key each time: the signer of the signing key
// is built once, with fast-jwt (which @fastify/jwt wraps), and kept while that key signs.
// A token is verified only with the key its `kid` names in the service's own key set, and only
// with that key's algorithm: `alg: none`, a token signed HS256 with a public key's bytes, an
// unknown `kid`, or one of another type of key, all fail. The `jwk`, `jku`, `x5u` and `x5c`
// headers are never read.
import fp from 'fastify-plugin'
import { createSigner } from 'fast-jwt'
import type { AccessClaims } from '../../auth/sessions.js'
import type { ClientAccessClaims } from '../../auth/clients.js'
import { ACCESS_TOKEN_TYPE } from '../external/jwt.js'

declare module 'fastify' {
  interface FastifyInstance {
    accessTokens: {
      /** Signs with the key that signs now; `expiresIn` (seconds) when shorter than the TTL. */
      sign (claims: AccessClaims | ClientAccessClaims, options?: { expiresIn: number }): string
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
  const { JWT_ISSUER, JWT_AUDIENCE, ACCESS_TOKEN_TTL } = app.config
  let current: { kid: string, sign: (payload: (AccessClaims | ClientAccessClaims) & { exp: number }) => string } | undefined

  app.decorate('accessTokens', {
    sign (claims: AccessClaims | ClientAccessClaims, options?: { expiresIn: number }): string {
      const { kid, alg, key } = keys.signer()
      if (current?.kid !== kid) {
        current = { kid, sign: createSigner({ key, algorithm: alg, kid, iss: JWT_ISSUER, aud: JWT_AUDIENCE, header: { alg, typ: ACCESS_TOKEN_TYPE } }) }
      }
      return current.sign({ ...claims, exp: claims.iat + (options?.expiresIn ?? ACCESS_TOKEN_TTL) })
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
