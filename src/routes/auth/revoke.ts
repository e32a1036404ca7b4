// RFC 7009 token revocation. The token is its own credential; the answer is 200 whether or not
// there was anything to revoke, so that it tells nothing about tokens one does not hold. A
// machine client may authenticate (as at the token endpoint): it may then revoke only its own
// tokens (§2.1), and a live token issued to anyone else is 400 unauthorized_client.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { formsOnly } from '../../plugins/app/bodies.js'
import { Type } from '@sinclair/typebox'
import { OAuthErrorReply } from '../../schemas/common.js'
import { InvalidRequest, UnauthorizedClient } from '../../errors.js'
import { clientOf } from '../../schemas/audit.js'
import { ClientAuthFields } from '../../schemas/token.js'

const RevokeRequest = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 8192 })),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64, description: 'access_token or refresh_token' })),
  ...ClientAuthFields
}, { additionalProperties: true })

const revoke: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(formsOnly)

  app.post('/revoke', {
    config: { oauthErrors: true },
    schema: {
      summary: 'Revoke an access or refresh token (RFC 7009)',
      description: 'A refresh token ends its whole session; an access token stops working on its next use.',
      tags: ['sessions'],
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: RevokeRequest,
      response: { 200: Type.Object({}, { description: 'Revoked, or nothing to revoke' }), 400: OAuthErrorReply, 401: OAuthErrorReply, 429: OAuthErrorReply }
    }
  }, async (request) => {
    const { token, token_type_hint: hint } = request.body
    const client = await app.authenticateClient(request, request.body, true)
    if (token === undefined || token === '') throw new InvalidRequest('token is required')
    if (client === undefined) {
      await app.sessions.revoke(token, hint, clientOf(request))
      return {}
    }
    const outcome = await app.clients.revokeToken(client, token, clientOf(request))
    // A user's refresh token is never a client's.
    if (outcome === 'not_ours' || (outcome === 'none' && await app.sessions.sessionOf(token) !== null)) {
      throw new UnauthorizedClient('The token was not issued to this client')
    }
    return {}
  })
}

export default revoke
