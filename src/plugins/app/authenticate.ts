// `app.authenticate`, the onRequest hook of every protected route: verifies the bearer token and
// turns each way it can fail into a 401 that tells the client what to do (RFC 6750 §3).
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { InvalidToken, Unauthorized } from '../../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void>
  }
}

const REALM = 'authd'
const NO_TOKEN = new Set(['FST_JWT_NO_AUTHORIZATION_IN_HEADER'])

function isTokenError (code: unknown): code is string {
  return typeof code === 'string' && (code.startsWith('FST_JWT_') || code.startsWith('FAST_JWT_'))
}

export default fp(async function authenticate (app) {
  app.decorate('authenticate', async function (request: FastifyRequest, reply: FastifyReply) {
    try {
      await request.jwtVerify()
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (!isTokenError(code)) throw err
      if (NO_TOKEN.has(code)) {
        reply.header('www-authenticate', `Bearer realm="${REALM}"`)
        throw new Unauthorized()
      }
      const description = code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' ? 'The access token expired' : 'The access token is invalid'
      reply.header('www-authenticate', `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`)
      throw new InvalidToken(description)
    }
  })
}, { name: 'authenticate', dependencies: ['jwt'] })
