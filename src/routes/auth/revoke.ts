// RFC 7009 token revocation. The token is its own credential; the answer is 200 whether or not
// there was anything to revoke, so that it tells nothing about tokens one does not hold.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { formsOnly } from '../../plugins/app/bodies.js'
import { Type } from '@sinclair/typebox'
import { OAuthErrorReply } from '../../schemas/common.js'
import { InvalidRequest } from '../../errors.js'
import { clientOf } from '../../schemas/audit.js'

const RevokeRequest = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 8192 })),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64, description: 'access_token or refresh_token' }))
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
      response: { 200: Type.Object({}, { description: 'Revoked, or nothing to revoke' }), 400: OAuthErrorReply }
    }
  }, async (request) => {
    const { token, token_type_hint: hint } = request.body
    if (token === undefined || token === '') throw new InvalidRequest('token is required')
    await app.sessions.revoke(token, hint, clientOf(request))
    return {}
  })
}

export default revoke
