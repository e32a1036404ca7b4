import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { bearerSecurity, ErrorReply, NoContent } from '../../schemas/common.js'
import { hasBearer } from '../../plugins/app/authenticate.js'

const logout: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/logout', {
    onRequest: app.authenticate,
    schema: {
      summary: 'End this session: its access and refresh tokens stop working at once',
      tags: ['sessions'],
      security: bearerSecurity,
      response: { 204: NoContent, 401: ErrorReply, 403: ErrorReply }
    }
  }, async (request, reply) => {
    const { id, sessionId, tokenId, expiresAt } = request.user
    await app.sessions.logout(id, sessionId, { jti: tokenId, exp: expiresAt })
    if (!hasBearer(request)) reply.clearSessionCookies()
    return reply.code(204).send(null)
  })

  app.post('/logout-all', {
    onRequest: app.authenticate,
    schema: {
      summary: 'End every session of this user, this one included',
      tags: ['sessions'],
      security: bearerSecurity,
      response: { 204: NoContent, 401: ErrorReply, 403: ErrorReply }
    }
  }, async (request, reply) => {
    await app.sessions.endAll(request.user.id)
    if (!hasBearer(request)) reply.clearSessionCookies()
    return reply.code(204).send(null)
  })
}

export default logout
