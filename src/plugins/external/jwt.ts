// @fastify/jwt with the access-token policy pinned: HS256 only, our issuer and audience,
// header typ "at+jwt" (RFC 9068), every claim required, no lifetime longer than the TTL, and
// nothing on the denylist.
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import { cookieNames } from '../app/cookies.js'

/** What the service signs; iss, aud, exp (and iat, unless given) are added by the signer. */
export interface AccessTokenPayload {
  sub: string
  sid: string
  jti: string
  scope: string
  iat?: number
}

/** `request.user` once a token is verified. */
export interface AuthUser {
  id: string
  sessionId: string
  tokenId: string
  scopes: string[]
  /** Seconds since the epoch. */
  expiresAt: number
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenPayload
    user: AuthUser
  }
}

export const ACCESS_TOKEN_TYPE = 'at+jwt'

// Leeway for clocks that disagree a little about the current second.
const CLOCK_SKEW_S = 30

// fast-jwt checks the types of the registered claims it knows; these are ours, and formatUser
// below relies on them. It also lets an `iat` in the future through, which would stretch the
// maxAge bound past the TTL.
function hasOwnClaims (claims: Record<string, unknown>): boolean {
  return typeof claims.sub === 'string' && typeof claims.sid === 'string' &&
    typeof claims.jti === 'string' && typeof claims.scope === 'string' &&
    typeof claims.iat === 'number' && claims.iat <= Date.now() / 1000 + CLOCK_SKEW_S
}

export default fp(async function jwt (app) {
  const { JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE, ACCESS_TOKEN_TTL, COOKIE_SECURE } = app.config
  await app.register(fastifyJwt, {
    secret: JWT_SECRET,
    // `Authorization: Bearer` first; without one, the access cookie of browser mode.
    cookie: { cookieName: cookieNames(COOKIE_SECURE).access, signed: false },
    sign: {
      algorithm: 'HS256',
      header: { alg: 'HS256', typ: ACCESS_TOKEN_TYPE },
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      expiresIn: ACCESS_TOKEN_TTL
    },
    verify: {
      algorithms: ['HS256'],
      checkTyp: ACCESS_TOKEN_TYPE,
      allowedIss: JWT_ISSUER,
      allowedAud: JWT_AUDIENCE,
      // Without this list fast-jwt skips absent claims: a token without exp would never expire.
      requiredClaims: ['iss', 'aud', 'sub', 'sid', 'jti', 'iat', 'exp', 'scope'],
      maxAge: ACCESS_TOKEN_TTL
    },
    // The denylist (plugins/app/revocation.ts), consulted on every verified token: in memory,
    // synchronous, two Map lookups.
    trusted: (request, claims) => hasOwnClaims(claims) && !request.server.revocation.isRevoked(claims.jti, claims.sid, claims.iat),
    formatUser: (claims) => ({
      id: claims.sub,
      sessionId: claims.sid,
      tokenId: claims.jti,
      scopes: claims.scope.split(' ').filter(s => s !== ''),
      expiresAt: (claims as unknown as { exp: number }).exp
    })
  })
}, { name: 'jwt', dependencies: ['cookie'] })
