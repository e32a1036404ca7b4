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
    const attempt = await app.passwordAttempt(request)
    await app.accounts.changePassword(request.user, request.body.currentPassword, request.body.newPassword, attempt, clientOf(request))
    return reply.code(204).send(null)
  })
}

export default password
