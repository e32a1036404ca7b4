// CSRF defence for cookie-authenticated requests. A browser attaches cookies on its own, so an
// unsafe request (POST, PUT, PATCH, DELETE) that relies on them must also show that it comes
// from one of our pages:
// - its Origin (or, without one, Sec-Fetch-Site) is the service's own or one of CORS_ORIGINS;
// - it carries, in the x-csrf-token header, a token bound to its session: @fastify/csrf tokens,
//   made from a secret in an HttpOnly cookie and HMAC-bound to the session id, so another
//   session's token (the attacker's own, say) is refused. Before login the binding is to
//   "anonymous", which is what protects the login itself against login CSRF.
// Bearer requests are exempt: no browser adds an Authorization header by itself.
import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import CSRF from '@fastify/csrf'
import type { FastifyRequest } from 'fastify'
import { CsrfRejected } from '../../errors.js'
import { cookieNames } from '../external/cookie.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Throws csrf_rejected unless the request's origin and CSRF token are right for `subject`. */
    verifyCsrf (request: FastifyRequest, subject: string): void
    /** The service's own origin, as the browser sees it: PUBLIC_URL, or from the Host header. */
    ownOrigin (request: FastifyRequest): string
  }
  interface FastifyReply {
    /** A CSRF token for `subject` (a session id, or ANONYMOUS); `rotate` starts a new secret. */
    csrfToken (subject: string, rotate?: boolean): string
  }
}

export const ANONYMOUS = 'anonymous'

export default fp(async function csrf (app) {
  const { COOKIE_SECURE: secure, JWT_SECRET, publicOrigin, corsOrigins } = app.config
  const cookie = cookieNames(secure).csrf
  const hmacKey = createHash('sha256').update('authd csrf\0').update(JWT_SECRET).digest()
  // (its types pick the overload without userInfo for a plain call)
  const tokens = CSRF({ userInfo: true, hmacKey }) as unknown as CSRF.TokensUserinfo
  const trusted = new Set(corsOrigins)

  // The service's own origin: PUBLIC_URL when set. Otherwise the browser's view of it, from the
  // Host header (X-Forwarded-Proto and -Host behind a proxy, with TRUST_PROXY); a page that
  // rebinds its own name to this service's address controls that header, and so passes.
  const ownOrigin = (request: FastifyRequest) => publicOrigin ?? `${request.protocol}://${request.host}`
  app.decorate('ownOrigin', ownOrigin)

  function originAllowed (request: FastifyRequest): boolean {
    const origin = request.headers.origin
    if (origin !== undefined) return origin === ownOrigin(request) || trusted.has(origin)
    return request.headers['sec-fetch-site'] === 'same-origin'
  }

  app.decorate('verifyCsrf', function (request: FastifyRequest, subject: string) {
    if (!originAllowed(request)) throw new CsrfRejected('The request does not come from an allowed origin')
    const secret = request.cookie(cookie)
    const token = request.headers['x-csrf-token']
    if (secret === undefined || typeof token !== 'string' || !tokens.verify(secret, token, subject)) {
      throw new CsrfRejected('A valid x-csrf-token header is required with cookie authentication')
    }
  })

  app.decorateReply('csrfToken', function (subject: string, rotate = false) {
    let secret = rotate ? undefined : this.request.cookie(cookie)
    if (secret === undefined || secret === '') {
      secret = tokens.secretSync()
      // Lax, like the access cookie: with Strict, a cross-site link to GET /auth/csrf would
      // arrive without the secret but signed in, and replace the secret under the open pages.
      this.setCookie(cookie, secret, { httpOnly: true, secure, sameSite: 'lax', path: '/' })
    }
    return tokens.create(secret, subject)
  })
}, { name: 'csrf', dependencies: ['cookie'] })
