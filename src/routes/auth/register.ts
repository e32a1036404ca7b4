import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply } from '../../schemas/common.js'
import { PublicUser, RegisterBody } from '../../schemas/user.js'
import { toPublicUser } from '../../schemas/user.js'
import { clientOf } from '../../schemas/audit.js'

const register: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/register', {
    config: { rateLimit: { max: app.config.RATE_LIMIT_REGISTER, timeWindow: 3_600_000 } },
    schema: {
      summary: 'Create an account',
      tags: ['auth'],
      body: RegisterBody,
      response: {
        201: PublicUser,
        400: ErrorReply,
        409: ErrorReply,
        429: ErrorReply
      }
    }
  }, async (request, reply) => {
    const user = await app.accounts.register(request.body, { via: 'register', ...clientOf(request) })
    return reply.code(201).send(toPublicUser(user))
  })
}

export default register
