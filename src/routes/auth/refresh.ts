import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply } from '../../schemas/common.js'
import { RefreshRequest, TokenResponse } from '../../schemas/token.js'
import { parseScope } from '../../roles.js'
import { tokenResponse } from './token.js'

const refresh: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/refresh', {
    schema: {
      summary: 'Rotate a refresh token: a new access token and the next refresh token',
      description: 'The token presented is used up. Presented again within REFRESH_REUSE_GRACE seconds it returns ' +
        'the same next token; later, it ends the whole session.',
      tags: ['auth'],
      body: RefreshRequest,
      response: { 200: TokenResponse, 400: ErrorReply }
    }
  }, async (request) => {
    return tokenResponse(await app.sessions.refresh(request.body.refresh_token, parseScope(request.body.scope)))
  })
}

export default refresh
