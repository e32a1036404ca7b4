import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { bearerSecurity, ErrorReply, NoContent } from '../../schemas/common.js'
import { PasswordChange } from '../../schemas/user.js'

const password: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/password', {
    onRequest: app.authenticate,
    schema: {
      summary: 'Change your password; every other session ends',
      tags: ['auth'],
      security: bearerSecurity,
      body: PasswordChange,
      response: { 204: NoContent, 400: ErrorReply, 401: ErrorReply }
    }
  }, async (request, reply) => {
    const { id, sessionId } = request.user
    await app.users.changePassword(id, request.body.currentPassword, request.body.newPassword)
    // After the change: a login with the old password can no longer open a session to survive this.
    await app.sessions.endAll(id, sessionId)
    return reply.code(204).send(null)
  })
}

export default password
