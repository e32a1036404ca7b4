import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ErrorReply, NoContent } from '../../schemas/common.js'
import { NotFound } from '../../errors.js'
import { SessionView } from '../../schemas/session.js'
import { toSessionView } from '../../schemas/session.js'
import { clientOf } from '../../schemas/audit.js'

const sessions: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/sessions', {
    onRequest: app.authenticate,
    preHandler: app.requireScopes('profile'),
    schema: {
      summary: 'Your live sessions, most recently used first',
      tags: ['sessions'],
      response: { 200: Type.Object({ sessions: Type.Array(SessionView) }), 401: ErrorReply, 403: ErrorReply }
    }
  }, async (request) => {
    const list = await app.sessions.list(request.user.id)
    return { sessions: list.map(session => toSessionView(session, request.user.sessionId)) }
  })

  app.delete('/sessions/:id', {
    onRequest: app.authenticate,
    preHandler: app.requireScopes('profile'),
    schema: {
      summary: 'End one of your sessions',
      tags: ['sessions'],
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 204: NoContent, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply }
    }
  }, async (request, reply) => {
    // Another user's session is as unknown as one that never existed.
    if (!await app.sessions.end(request.user, request.params.id, clientOf(request))) throw new NotFound('No such live session')
    return reply.code(204).send(null)
  })
}

export default sessions
