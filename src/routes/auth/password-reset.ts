import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply, NoContent } from '../../schemas/common.js'
import { Accepted, AddressBody, MAIL_ACCEPTED, ResetBody } from '../../schemas/recovery.js'
import { clientOf } from '../../schemas/audit.js'

const passwordReset: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/password/forgot', {
    config: { rateLimit: { max: app.config.RATE_LIMIT_MAIL_REQUEST, timeWindow: 3_600_000 } },
    schema: {
      summary: 'Mail a password-reset link',
      description: 'The same answer, in about the same time, whether or not an account has the address. ' +
        `The link works once, for RESET_TOKEN_TTL (${app.config.RESET_TOKEN_TTL} s); a newer one replaces it.`,
      tags: ['auth'],
      body: AddressBody,
      response: { 202: Accepted, 400: ErrorReply, 429: ErrorReply, 503: ErrorReply }
    }
  }, async (request, reply) => {
    await app.recovery.forgotPassword(request.body.email, clientOf(request))
    return reply.code(202).send(MAIL_ACCEPTED)
  })

  app.post('/password/reset', {
    config: { rateLimit: { max: app.config.RATE_LIMIT_LOGIN, timeWindow: 60_000 } },
    schema: {
      summary: 'Set a new password with the token of a reset link; every session ends',
      tags: ['auth'],
      body: ResetBody,
      response: { 204: NoContent, 400: ErrorReply, 429: ErrorReply, 503: ErrorReply }
    }
  }, async (request, reply) => {
    await app.recovery.resetPassword(request.body.token, request.body.newPassword, clientOf(request))
    return reply.code(204).send(null)
  })
}

export default passwordReset
