import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply } from '../schemas/common.js'

const Status = Type.Object({ status: Type.String() })

const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', {
    schema: { summary: 'Liveness: the process answers', tags: ['health'], response: { 200: Status } }
  }, async () => ({ status: 'ok' }))

  app.get('/ready', {
    schema: {
      summary: 'Readiness: the database answers',
      tags: ['health'],
      response: { 200: Status, 503: ErrorReply }
    }
  }, async (request, reply) => {
    try {
      await app.store.ping()
      return { status: 'ready' }
    } catch (err) {
      request.log.error({ err }, 'database unreachable')
      return reply.code(503).header('retry-after', '5').send({ error: 'not_ready', message: 'The database does not answer' })
    }
  })
}

export default health
