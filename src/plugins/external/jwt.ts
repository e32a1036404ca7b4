// @fastify/jwt with the verification policy of access tokens pinned: our issuer and audience,
// header typ "at+jwt" (RFC 9068), every claim required, no lifetime longer than the TTL. The key
// and its algorithm are given at each call by plugins/app/access-tokens.ts, which also signs
// (with the same issuer, audience and typ); plugins/app/authenticate.ts adds the checks of our
// own claims and the denylist.
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'

/** What the service signs; iss, aud, exp (and iat, unless given) are added by the signer. */
export type AccessTokenPayload =
  | { sub: string, sid: string, jti: string, scope: string, iat?: number, amr: string[], auth_time: number }
  | { sub: string, client_id: string, jti: string, scope: string, iat?: number }

interface TokenCaller {
  readonly tokenId: string
  /** Seconds since the epoch. */
  readonly issuedAt: number
  readonly scopes: readonly string[]
  /** Seconds since the epoch. */
  readonly expiresAt: number
}

/** A signed-in user, as `request.user` holds it; shared by the requests that bring the same token. */
export interface AuthUser extends TokenCaller {
  readonly kind: 'user'
  readonly id: string
  readonly sessionId: string
  /** How the token came: an Authorization header, or the browser's access cookie. */
  readonly via: 'bearer' | 'cookie'
  /** The session was opened with a second factor (`amr` has "mfa"). */
  readonly secondFactor: boolean
}

/** A machine client (client credentials): its id is the token's sub and client_id. */
export interface AuthClient extends TokenCaller {
  readonly kind: 'client'
  readonly id: string
  readonly via: 'bearer'
}

/** Whoever a verified access token speaks for: `request.caller`. */
export type Caller = AuthUser | AuthClient

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenPayload
    user: AuthUser
  }
}

export const ACCESS_TOKEN_TYPE = 'at+jwt'

export default fp(async function jwt (app) {
  const { JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE, ACCESS_TOKEN_TTL } = app.config
  await app.register(fastifyJwt, {
    secret: JWT_SECRET,
    verify: {
      algorithms: ['HS256'],
      checkTyp: ACCESS_TOKEN_TYPE,
      allowedIss: JWT_ISSUER,
      allowedAud: JWT_AUDIENCE,
      // Without this list fast-jwt skips absent claims: a token without exp would never expire.
      // (sid for a user's token, or client_id for a machine's: plugins/app/authenticate.ts.)
      requiredClaims: ['iss', 'aud', 'sub', 'jti', 'iat', 'exp', 'scope'],
      maxAge: ACCESS_TOKEN_TTL
      // No cache here: plugins/app/authenticate.ts keeps verified tokens itself (see there).
    }
  })
}, { name: 'jwt' })
