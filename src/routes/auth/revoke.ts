// RFC 7009 token revocation. The token is its own credential; the answer is 200 whether or not
// there was anything to revoke, so that it tells nothing about tokens one does not hold.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { formsOnly } from '../../plugins/app/bodies.js'
import { Type } from '@sinclair/typebox'
import { OAuthErrorReply } from '../../schemas/common.js'
import { InvalidRequest } from '../../errors.js'
import type { AccessTokenPayload } from '../../plugins/external/jwt.js'
import { clientOf } from '../../schemas/audit.js'

const RevokeRequest = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 8192 })),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64, description: 'access_token or refresh_token' }))
}, { additionalProperties: true })

const revoke: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(formsOnly)

  type Revoked = { type: 'logout' | 'token_revoked', userId: string, sessionId: string } | null

  // Only a token that verifies is ours to deny; an expired one is already dead.
  async function revokeAccessToken (token: string): Promise<Revoked> {
    let claims: AccessTokenPayload & { exp: number }
    try {
      claims = app.jwt.verify(token)
    } catch {
      return null
    }
    await app.sessions.revokeAccessToken({ jti: claims.jti, exp: claims.exp })
    return { type: 'token_revoked', userId: claims.sub, sessionId: claims.sid }
  }

  // A refresh token's revocation ends its session: an API client's logout.
  async function revokeRefreshToken (token: string): Promise<Revoked> {
    const session = await app.sessions.revokeRefreshToken(token)
    return session === null ? null : { type: 'logout', ...session }
  }

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
    // The hint only says which kind to try first (§2.1); an unknown hint is ignored.
    const accessFirst = hint === 'access_token' || (hint !== 'refresh_token' && token.split('.').length === 3)
    const attempts = accessFirst ? [revokeAccessToken, revokeRefreshToken] : [revokeRefreshToken, revokeAccessToken]
    for (const attempt of attempts) {
      const revoked = await attempt(token)
      if (revoked === null) continue
      await app.audit.record({ ...revoked, ...clientOf(request), detail: { via: 'revoke' } })
      break
    }
    return {}
  })
}

export default revoke
