// The OAuth 2.0 token endpoint for API clients (RFC 6749 §4.3, resource owner password grant).
// Form-encoded as the RFC says, or JSON; a missing grant_type means "password", as the clients
// of the FastAPI tutorials send it. Never sets a cookie.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import formbody from '@fastify/formbody'
import { OAuthErrorReply } from '../../schemas/common.js'
import { TokenRequest, TokenResponse } from '../../schemas/token.js'
import { resolveScopes } from '../../roles.js'
import { MAX_PASSWORD_BYTES } from '../../plugins/app/passwords.js'
import { InvalidGrant, InvalidRequest, InvalidScope, UnsupportedGrantType } from '../../errors.js'

const BAD_CREDENTIALS = 'Invalid username or password'

const token: FastifyPluginAsyncTypebox = async (app) => {
  // Forms are parsed only in this scope: elsewhere a form body cannot stand in for JSON.
  await app.register(formbody)

  app.post('/token', {
    config: { oauthErrors: true },
    // Set before anything can fail, so that errors are not cached either (RFC 6749 §5.1).
    onRequest: async (_request, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    },
    schema: {
      summary: 'OAuth 2.0 token endpoint (password grant)',
      tags: ['auth'],
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: TokenRequest,
      response: {
        200: TokenResponse,
        400: OAuthErrorReply
      }
    }
  }, async (request) => {
    const { grant_type: grant = 'password', username, password, scope } = request.body
    if (grant !== 'password') throw new UnsupportedGrantType(`grant_type "${grant}" is not supported`)
    if (username === undefined || username === '' || password === undefined || password === '') {
      throw new InvalidRequest('username and password are required')
    }
    const requested = scope?.split(' ').filter(s => s !== '')

    // bcrypt would compare only the first 72 bytes: such a password was never accepted.
    const user = Buffer.byteLength(password) > MAX_PASSWORD_BYTES
      ? null
      : await app.users.checkCredentials(username, password)
    if (user === null) throw new InvalidGrant(BAD_CREDENTIALS)

    const scopes = resolveScopes(user.roles, requested)
    if (scopes === undefined) throw new InvalidScope('None of the requested scopes can be granted')

    const issued = await app.sessions.start(user, scopes, { ip: request.ip, userAgent: request.headers['user-agent'] })
    return {
      access_token: issued.accessToken,
      token_type: 'Bearer' as const,
      expires_in: issued.expiresIn,
      scope: issued.scope
    }
  })
}

export default token
