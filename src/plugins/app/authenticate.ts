// `app.authenticate`, the onRequest hook of every protected route: verifies the access token
// (bearer header, else the access cookie) and turns each way it can fail into a 401 (the error
// handler adds the RFC 6750 challenge). A cookie-authenticated unsafe request must also pass the
// CSRF check (plugins/app/csrf.ts).
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { InvalidToken, Unauthorized } from '../../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    authenticate (request: FastifyRequest): Promise<void>
  }
}

const NO_TOKEN = new Set(['FST_JWT_NO_AUTHORIZATION_IN_HEADER', 'FST_JWT_NO_AUTHORIZATION_IN_COOKIE'])
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

// Every error @fastify/jwt or fast-jwt raises about a token; anything else is a fault.
function isTokenError (code: unknown): code is string {
  return typeof code === 'string' && (code.startsWith('FST_JWT_') || code.startsWith('FAST_JWT_'))
}

/** True when the request brings its own bearer token, rather than the browser's cookie. */
export function hasBearer (request: FastifyRequest): boolean {
  return /^Bearer\s/i.test(request.headers.authorization ?? '')
}

export default fp(async function authenticate (app) {
  app.decorate('authenticate', async function (request: FastifyRequest) {
    try {
      await request.jwtVerify()
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (!isTokenError(code)) throw err
      if (NO_TOKEN.has(code)) throw new Unauthorized()
      throw new InvalidToken(code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' ? 'The access token expired' : 'The access token is invalid')
    }
    if (UNSAFE.has(request.method) && !hasBearer(request)) app.verifyCsrf(request, request.user.sessionId)
  })
}, { name: 'authenticate', dependencies: ['jwt', 'csrf'] })
