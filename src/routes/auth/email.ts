import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply } from '../../schemas/common.js'
import { Accepted, AddressBody, EmailChangeBody, MAIL_ACCEPTED, Verified, VerifyBody } from '../../schemas/recovery.js'
import { clientOf } from '../../schemas/audit.js'

const email: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/email/verify', {
    config: { rateLimit: { max: app.config.RATE_LIMIT_LOGIN, timeWindow: 60_000 } },
    schema: {
      summary: 'Follow a link to verify an address, or to confirm a new one',
      tags: ['auth'],
      body: VerifyBody,
      response: { 200: Verified, 400: ErrorReply, 409: ErrorReply, 429: ErrorReply }
    }
  }, async (request) => await app.recovery.verifyEmail(request.body.token, clientOf(request)))

  app.post('/email/verify/resend', {
    config: { rateLimit: { max: app.config.RATE_LIMIT_MAIL_REQUEST, timeWindow: 3_600_000 } },
    schema: {
      summary: 'Mail a new verification link',
      description: 'The same answer whether or not an unverified account has the address.',
      tags: ['auth'],
      body: AddressBody,
      response: { 202: Accepted, 400: ErrorReply, 429: ErrorReply, 503: ErrorReply }
    }
  }, async (request, reply) => {
    await app.recovery.resendVerification(request.body.email, clientOf(request))
    return reply.code(202).send(MAIL_ACCEPTED)
  })

  app.post('/email', {
    onRequest: app.authenticate,
    preHandler: app.requireScopes('profile'),
    config: { rateLimit: { max: app.config.RATE_LIMIT_MAIL_REQUEST, timeWindow: 3_600_000 } },
    schema: {
      summary: 'Change your address: a link to confirm it goes to the new one, a notice to the old',
      description: 'Nothing changes until the link is followed (POST /auth/email/verify).',
      tags: ['auth'],
      body: EmailChangeBody,
      response: { 202: Accepted, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 409: ErrorReply, 429: ErrorReply, 503: ErrorReply }
    }
  }, async (request, reply) => {
    const attempt = await app.passwordAttempt(request)
    await app.recovery.requestEmailChange(request.user, request.body.newEmail, request.body.password, attempt, clientOf(request))
    return reply.code(202).send({ message: 'A link to confirm the new address is on its way to it' })
  })
}

export default email
