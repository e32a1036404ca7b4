import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply, NoContent } from '../../schemas/common.js'
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
    await app.sessions.logout(request.user, clientOf(request))
    if (request.user.via === 'cookie') reply.clearSessionCookies()
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
    await app.sessions.logoutAll(request.user, clientOf(request))
    if (request.user.via === 'cookie') reply.clearSessionCookies()
    return reply.code(204).send(null)
  })
}

export default logout
