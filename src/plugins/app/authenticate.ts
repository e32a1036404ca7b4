// `app.authenticate`, the onRequest hook of every protected route: finds the access token (the
// bearer header, else the access cookie), verifies it, checks the denylist, and turns each way
// it can fail into a 401 (the error handler adds the RFC 6750 challenge). A cookie-authenticated
// unsafe request must also pass the CSRF check (plugins/app/csrf.ts). It serves signed-in users
// (`request.user`): a machine client's token gets 403 user_required. `app.authenticateCaller`
// is the same for the routes machine clients may call too, whose handlers read `request.caller`.
//
// It calls app.accessTokens.verify (@fastify/jwt's verifier with the key the token's kid names,
// pinned to that key's algorithm, and the policy: issuer, audience, typ, required claims)
// directly rather than request.jwtVerify(), which decodes every token a second time.
//
// A client sends the same token until it expires, so tokens verified once are remembered, each
// no longer than it is valid, and the next request skips the signature check. fast-jwt has such a cache,
// but keys it by a SHA-256 of every token, and a key of one's own makes it print a security
// warning in every process, the CLI's included. Here the key is the token's signature, shorter
// to hash than the whole token, and a hit counts only if the whole token is the one remembered.
// The denylist is never cached: it is read every time.
import fp from 'fastify-plugin'
import type { FastifyRequest, onRequestHookHandler } from 'fastify'
import { InvalidToken, Unauthorized, UserRequired } from '../../errors.js'
import type { AuthClient, AuthUser, Caller } from '../external/jwt.js'
import { clientOf } from '../../schemas/audit.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** For users' routes: request.user (and request.caller) are the signed-in user. */
    authenticate: onRequestHookHandler
    /** For routes machine clients may call too: request.caller is the user or the client. */
    authenticateCaller: onRequestHookHandler
    /** Whom a valid access token that is not on the denylist speaks for; throws invalid_token otherwise. */
    verifyAccessToken (token: string, via: AuthUser['via']): Caller
  }
  interface FastifyRequest {
    /** Set by app.authenticate or app.authenticateCaller. */
    caller: Caller | null
  }
}

/** request.caller, on a route behind app.authenticate or app.authenticateCaller. */
export function callerOf (request: FastifyRequest): Caller {
  if (request.caller === null) throw new Unauthorized()
  return request.caller
}

/** Who acts, for the audit trail: a user in their session, or a machine client (no session); and the scopes it holds. */
export function actorOf (request: FastifyRequest) {
  const caller = callerOf(request)
  return { id: caller.id, sessionId: caller.kind === 'user' ? caller.sessionId : null, scopes: caller.scopes, ...clientOf(request) }
}

/** The signed-in user of a request behind app.authenticate, and where it came from: whom a change to the account is for. */
export function holderOf (request: FastifyRequest) {
  return { id: request.user.id, sessionId: request.user.sessionId, ...clientOf(request) }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const BEARER = /^Bearer\s/i

const VERIFIED_CACHE_SIZE = 10_000
// All of an HS256 signature (32 bytes in base64url), or the end of a longer one.
const SIGNATURE_CHARS = 43

// Leeway for clocks that disagree a little about the current second.
const CLOCK_SKEW_S = 30

type OwnClaims = { sub: string, jti: string, scope: string, iat: number, exp: number, amr?: unknown } &
  ({ sid: string, client_id?: undefined } | { client_id: string, sid?: undefined })

// fast-jwt checks the types of the registered claims it knows; these are ours. A user's token
// names its session (sid); a machine client's names the client (client_id, which is its sub),
// and never both. fast-jwt also lets an `iat` in the future through, which would stretch the
// maxAge bound past the TTL.
function ownClaims (claims: Record<string, unknown>): claims is OwnClaims {
  const user = typeof claims.sid === 'string' && claims.client_id === undefined
  const client = typeof claims.client_id === 'string' && claims.sid === undefined && claims.client_id === claims.sub
  return (user || client) && typeof claims.sub === 'string' &&
    typeof claims.jti === 'string' && typeof claims.scope === 'string' &&
    typeof claims.iat === 'number' && claims.iat <= Date.now() / 1000 + CLOCK_SKEW_S
}

function isTokenError (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('FAST_JWT_')
}

export default fp(async function authenticate (app) {
  const { revocation } = app
  const ttl = app.config.ACCESS_TOKEN_TTL
  // Signature → the token, its user (as a bearer token and as a cookie), its iat, and the instant
  // (ms) it stops being valid: exp, or iat + TTL if sooner. The users are frozen: every request
  // with the token shares them.
  // (A machine client's token has no cookie form: clients are never given cookies.)
  const verified = new Map<string, { token: string, bearer: Caller, cookie: AuthUser | undefined, iat: number, kid: string | undefined, until: number }>()

  function verify (token: string): { bearer: Caller, cookie: AuthUser | undefined, iat: number, kid: string | undefined } {
    // The last 43 characters of any token, without a scan for its last dot: only the whole
    // token can make a hit.
    const signature = token.slice(-SIGNATURE_CHARS)
    const hit = verified.get(signature)
    // Another token with the same signature is a forgery of this one: the verifier refuses it.
    if (hit !== undefined && hit.token === token) {
      if (Date.now() < hit.until) return hit
      verified.delete(signature)
    }
    let claims: Record<string, unknown> & { kid?: string }
    try {
      claims = app.accessTokens.verify<Record<string, unknown>>(token)
    } catch (err) {
      if (!isTokenError(err)) throw err
      throw new InvalidToken((err as { code: string }).code === 'FAST_JWT_EXPIRED' ? 'The access token expired' : 'The access token is invalid')
    }
    const kid = claims.kid
    // (fast-jwt has checked that exp is a number.) A token that fails here is not remembered.
    if (!ownClaims(claims)) throw new InvalidToken('The access token is invalid')
    const held = {
      id: claims.sub,
      tokenId: claims.jti,
      scopes: Object.freeze(claims.scope.split(' ').filter(s => s !== '')),
      expiresAt: claims.exp,
      issuedAt: claims.iat
    }
    const user = claims.sid === undefined ? undefined : { ...held, kind: 'user' as const, sessionId: claims.sid, secondFactor: Array.isArray(claims.amr) && claims.amr.includes('mfa') }
    const entry = {
      token,
      bearer: Object.freeze(user === undefined ? { ...held, kind: 'client' as const, via: 'bearer' as const } satisfies AuthClient : { ...user, via: 'bearer' as const } satisfies AuthUser),
      cookie: user === undefined ? undefined : Object.freeze({ ...user, via: 'cookie' as const } satisfies AuthUser),
      iat: claims.iat,
      kid,
      until: Math.min(claims.exp, claims.iat + ttl) * 1000
    }
    // Oldest out first, past 10,000 entries.
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string)
    verified.set(signature, entry)
    return entry
  }

  function verifyAccessToken (token: string, via: AuthUser['via']): Caller {
    const { [via]: caller, iat, kid } = verify(token)
    if (caller === undefined) throw new InvalidToken('The access token is invalid')
    const revoked = caller.kind === 'user'
      ? revocation.isRevoked(caller.tokenId, caller.sessionId, iat, kid)
      : revocation.isClientRevoked(caller.tokenId, caller.id, iat, kid)
    if (revoked) throw new InvalidToken('The access token is invalid')
    return caller
  }

  app.decorate('verifyAccessToken', verifyAccessToken)

  function authenticate (request: FastifyRequest): Caller {
    const header = request.headers.authorization
    const bearer = header !== undefined && BEARER.test(header)
    let token: string | undefined
    if (bearer) {
      // The scheme, one space, the token (RFC 6750, section 2.1), and no other space.
      token = header.slice(7)
      if (header.charCodeAt(6) !== 0x20 || token === '' || token.includes(' ')) throw new InvalidToken('The access token is invalid')
    } else {
      token = request.accessCookie()
      if (token === undefined) throw new Unauthorized()
    }
    const caller = verifyAccessToken(token, bearer ? 'bearer' : 'cookie')
    // The cookie came by itself; only a request that shows it comes from our pages may change anything.
    if (caller.kind === 'user' && UNSAFE.has(request.method) && !bearer) app.verifyCsrf(request, caller.sessionId)
    request.caller = caller
    if (caller.kind === 'user') request.user = caller
    return caller
  }

  app.decorateRequest('caller', null)
  // All of it is synchronous: a callback hook spares every request a promise and its microtasks.
  app.decorate('authenticate', function (request, _reply, done) {
    try {
      if (authenticate(request).kind !== 'user') throw new UserRequired()
    } catch (err) {
      done(err as Error)
      return
    }
    done()
  } satisfies onRequestHookHandler)
  app.decorate('authenticateCaller', function (request, _reply, done) {
    try {
      authenticate(request)
    } catch (err) {
      done(err as Error)
      return
    }
    done()
  } satisfies onRequestHookHandler)
}, { name: 'authenticate', dependencies: ['access-tokens', 'csrf', 'revocation', 'session-cookies'] })
