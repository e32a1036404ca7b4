// A signed-in user's second factors: the authenticator app (set up, confirmed with a first code,
// turned off with the password and a code) and its recovery codes.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply, NoContent } from '../../schemas/common.js'
import { CodeRequest, DisableTotpRequest, MfaStatus, PasswordRequest, RecoveryCodes, TotpSetup } from '../../schemas/mfa.js'
import { holderOf as holder } from '../../plugins/app/authenticate.js'

const mfa: FastifyPluginAsyncTypebox = async (app) => {
  const signedIn = { onRequest: app.authenticate, preHandler: app.requireScopes('profile') }

  app.get('/mfa', {
    ...signedIn,
    schema: {
      summary: 'Your second factors',
      tags: ['mfa'],
      response: { 200: MfaStatus, 401: ErrorReply, 403: ErrorReply }
    }
  }, async (request) => await app.secondFactors.status(request.user.id))

  app.post('/mfa/totp', {
    ...signedIn,
    schema: {
      summary: 'Start setting up an authenticator app',
      description: 'Returns a new secret; it works once POST /auth/mfa/totp/confirm brings a code of it. Starting again replaces a setup not yet confirmed.',
      tags: ['mfa'],
      response: { 200: TotpSetup, 401: ErrorReply, 403: ErrorReply, 409: ErrorReply }
    }
  }, async (request) => {
    const setup = await app.secondFactors.startTotp(request.user.id)
    // (Loaded here, when someone sets up an app: not at every start.)
    const { default: QRCode } = await import('qrcode')
    return { ...setup, qrCode: await QRCode.toString(setup.uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }) }
  })

  app.post('/mfa/totp/confirm', {
    ...signedIn,
    schema: {
      summary: 'Turn the authenticator app on with a first code; returns 10 recovery codes',
      tags: ['mfa'],
      body: CodeRequest,
      response: { 200: RecoveryCodes, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 409: ErrorReply }
    }
  }, async (request) => ({ recoveryCodes: await app.secondFactors.confirmTotp(holder(request), request.body.code) }))

  app.delete('/mfa/totp', {
    ...signedIn,
    schema: {
      summary: 'Turn the authenticator app off (and void the recovery codes): needs the password and a code',
      tags: ['mfa'],
      body: DisableTotpRequest,
      response: { 204: NoContent, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 409: ErrorReply, 429: ErrorReply }
    }
  }, async (request, reply) => {
    const attempt = await app.passwordAttempt(request)
    await app.secondFactors.disableTotp(holder(request), request.body.password, request.body.code, attempt)
    return reply.code(204).send(null)
  })

  app.post('/mfa/recovery-codes', {
    ...signedIn,
    schema: {
      summary: 'New recovery codes; the old ones stop working. Needs the password',
      tags: ['mfa'],
      body: PasswordRequest,
      response: { 200: RecoveryCodes, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 409: ErrorReply, 429: ErrorReply }
    }
  }, async (request) => {
    const attempt = await app.passwordAttempt(request)
    return { recoveryCodes: await app.secondFactors.regenerateRecoveryCodes(holder(request), request.body.password, attempt) }
  })
}

export default mfa
