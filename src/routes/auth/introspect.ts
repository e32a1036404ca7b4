// RFC 7662 token introspection, for resource servers registered as machine clients holding
// tokens:introspect. The caller authenticates as a client (Basic, the body's secret, an
// assertion) or with an access token of such a client. Rate limited per client, never cached.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { formsOnly } from '../../plugins/app/bodies.js'
import { OAuthErrorReply } from '../../schemas/common.js'
import { IntrospectionRequest, IntrospectionResponse } from '../../schemas/introspection.js'
import { InsufficientScope, InvalidRequest, UserRequired } from '../../errors.js'

const SCOPE = 'tokens:introspect'
const BEARER = /^Bearer\s/i

const introspect: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(formsOnly)

  // The client asking: its scopes, whichever way it authenticated.
  async function caller (request: FastifyRequest, body: IntrospectionRequest): Promise<readonly string[]> {
    if (BEARER.test(request.headers.authorization ?? '')) {
      const token = request.headers.authorization!.slice(7).trim()
      const caller = app.verifyAccessToken(token, 'bearer')
      if (caller.kind !== 'client') throw new UserRequired('Introspection is for machine clients')
      app.clients.admit(caller.id)
      return caller.scopes
    }
    return (await app.authenticateClient(request, body)).scopes
  }

  app.post('/introspect', {
    config: { oauthErrors: true },
    schema: {
      summary: 'Whether a token is live, and what it carries (RFC 7662)',
      description: 'For machine clients holding tokens:introspect, authenticated as at the token endpoint or with their access token. Anything not live (expired, revoked, unknown) is { "active": false } alone.',
      tags: ['clients'],
      security: [{ clientBasic: [] }, { oauth2: [SCOPE] }],
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: IntrospectionRequest,
      response: { 200: IntrospectionResponse, 400: OAuthErrorReply, 401: OAuthErrorReply, 403: OAuthErrorReply, 429: OAuthErrorReply }
    }
  }, async (request, reply) => {
    const scopes = await caller(request, request.body)
    if (!scopes.includes(SCOPE)) throw new InsufficientScope(SCOPE)
    const { token, token_type_hint: hint } = request.body
    if (token === undefined || token === '') throw new InvalidRequest('token is required')
    reply.header('pragma', 'no-cache')
    return await app.introspection.introspect(token, hint)
  })
}

export default introspect
