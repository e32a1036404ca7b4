import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply, NoContent } from '../../schemas/common.js'
import { PasswordChange } from '../../schemas/user.js'
import { clientOf } from '../../plugins/app/audit.js'
import { WrongPassword } from '../../errors.js'

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
    const attempt = await app.passwordAttempt(request, `password:${id}`)
    try {
      await app.users.changePassword(id, request.body.currentPassword, request.body.newPassword)
    } catch (err) {
      if (err instanceof WrongPassword) await attempt.failed()
      throw err
    }
    // After the change: a login with the old password can no longer open a session to survive this.
    const ended = await app.sessions.endAll(id, sessionId)
    await app.audit.record({ type: 'password_changed', userId: id, sessionId, ...clientOf(request), detail: { sessionsEnded: ended } })
    return reply.code(204).send(null)
  })
}

export default password
