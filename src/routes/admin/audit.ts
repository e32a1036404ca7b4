import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply } from '../../schemas/common.js'
import { AuditPage, AuditQuery } from '../../schemas/admin.js'
import { toAuditEventView } from '../../schemas/audit.js'

const audit: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/audit', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('users:read'),
    schema: {
      summary: 'The audit trail, newest first, a page at a time',
      tags: ['admin'],
      querystring: AuditQuery,
      response: { 200: AuditPage, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply }
    }
  }, async (request) => {
    const { limit, cursor, userId, actorId, type } = request.query
    const { events, next } = await app.admin.audit({ limit, before: cursor, userId, actorId, type })
    return { events: events.map(toAuditEventView), nextCursor: next }
  })
}

export default audit
