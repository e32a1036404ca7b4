import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply, NoContent } from '../../schemas/common.js'
import { PasswordChange } from '../../schemas/user.js'
import { clientOf } from '../../schemas/audit.js'

const password: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/password', {
    onRequest: app.authenticate,
    preHandler: app.requireScopes('profile'),
    schema: {
      summary: 'Change your password; every other session ends',
      tags: ['auth'],
      body: PasswordChange,
      response: { 204: NoContent, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 429: ErrorReply }
    }
  }, async (request, reply) => {
    const { id, sessionId } = request.user
    const attempt = await app.passwordAttempt(request)
    // The other sessions end in the transaction that writes the new password, and the event is
    // recorded in it: a login checked against the old password cannot open a session after it.
    const ended = await app.users.changePassword(id, request.body.currentPassword, request.body.newPassword, attempt, async tx => {
      const entries = await app.sessions.revokeUserSessions(tx, id, sessionId)
      await app.audit.record({ type: 'password_changed', userId: id, sessionId, ...clientOf(request), detail: { sessionsEnded: entries.length } }, tx)
      return entries
    })
    app.revocation.remember(ended)
    return reply.code(204).send(null)
  })
}

export default password
