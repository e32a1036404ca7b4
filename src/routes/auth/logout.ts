import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply, NoContent } from '../../schemas/common.js'
import { hasBearer } from '../../plugins/app/authenticate.js'
import { clientOf } from '../../schemas/audit.js'

const logout: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/logout', {
    onRequest: app.authenticate,
    schema: {
      summary: 'End this session: its access and refresh tokens stop working at once',
      tags: ['sessions'],
      response: { 204: NoContent, 401: ErrorReply, 403: ErrorReply }
    }
  }, async (request, reply) => {
    const { id, sessionId, tokenId, expiresAt } = request.user
    await app.sessions.logout(id, sessionId, { jti: tokenId, exp: expiresAt })
    await app.audit.record({ type: 'logout', userId: id, sessionId, ...clientOf(request) })
    if (!hasBearer(request)) reply.clearSessionCookies()
    return reply.code(204).send(null)
  })

  app.post('/logout-all', {
    onRequest: app.authenticate,
    schema: {
      summary: 'End every session of this user, this one included',
      tags: ['sessions'],
      response: { 204: NoContent, 401: ErrorReply, 403: ErrorReply }
    }
  }, async (request, reply) => {
    const ended = await app.sessions.endAll(request.user.id)
    await app.audit.record({ type: 'logout_all', userId: request.user.id, sessionId: request.user.sessionId, ...clientOf(request), detail: { sessionsEnded: ended } })
    if (!hasBearer(request)) reply.clearSessionCookies()
    return reply.code(204).send(null)
  })
}

export default logout
