// Passkeys: a signed-in user registers them (options, then the browser's answer), lists and
// removes them; anyone signs in with one alone, and gets the same cookies and body as
// POST /auth/login. The browser side is @simplewebauthn/browser (served at /webauthn.js).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import { ErrorReply, NoContent } from '../../schemas/common.js'
import { BrowserSession } from '../../schemas/session.js'
import { AuthenticationRequest, CreationOptions, PasskeyId, PasskeyList, PasskeyView, RegistrationRequest, RequestOptions, toPasskeyView } from '../../schemas/passkeys.js'
import { clientOf } from '../../schemas/audit.js'
import { ANONYMOUS } from '../../plugins/app/csrf.js'
import { holderOf as holder } from '../../plugins/app/authenticate.js'
import { PasskeyRefused } from '../../errors.js'

const passkeys: FastifyPluginAsyncTypebox = async (app) => {
  const signedIn = { onRequest: app.authenticate, preHandler: app.requireScopes('profile') }

  // Each options request writes a challenge: as many a minute per IP as password logins.
  const perMinute = { rateLimit: { max: app.config.RATE_LIMIT_LOGIN, timeWindow: 60_000 } }

  app.post('/passkeys/register/options', {
    ...signedIn,
    config: perMinute,
    schema: {
      summary: 'Start registering a passkey: the options for navigator.credentials.create()',
      tags: ['passkeys'],
      response: { 200: CreationOptions, 401: ErrorReply, 403: ErrorReply, 429: ErrorReply }
    }
  }, async (request) => await app.passkeys.registrationOptions(request.user.id, app.ownOrigin(request)))

  app.post('/passkeys/register', {
    ...signedIn,
    schema: {
      summary: 'Keep the passkey the browser made',
      description: 'The answer to the options, within 5 minutes, as @simplewebauthn/browser startRegistration() returns it.',
      tags: ['passkeys'],
      body: RegistrationRequest,
      response: { 201: PasskeyView, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 409: ErrorReply }
    }
  }, async (request, reply) => {
    const { name, response } = request.body
    const passkey = await app.passkeys.register(holder(request), name, response as unknown as RegistrationResponseJSON, app.ownOrigin(request))
    return reply.code(201).send(toPasskeyView(passkey))
  })

  app.get('/passkeys', {
    ...signedIn,
    schema: {
      summary: 'Your passkeys',
      tags: ['passkeys'],
      response: { 200: PasskeyList, 401: ErrorReply, 403: ErrorReply }
    }
  }, async (request) => ({ passkeys: (await app.passkeys.list(request.user.id)).map(toPasskeyView) }))

  app.delete('/passkeys/:id', {
    ...signedIn,
    schema: {
      summary: 'Remove one of your passkeys',
      tags: ['passkeys'],
      params: PasskeyId,
      response: { 204: NoContent, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply }
    }
  }, async (request, reply) => {
    await app.passkeys.remove(holder(request), request.params.id)
    return reply.code(204).send(null)
  })

  app.post('/passkeys/login/options', {
    config: perMinute,
    schema: {
      summary: 'Start a sign-in with a passkey: the options for navigator.credentials.get()',
      description: 'No username: the browser offers the passkeys it has for this service.',
      tags: ['browser'],
      response: { 200: RequestOptions, 400: ErrorReply, 429: ErrorReply }
    }
  }, async (request) => await app.passkeys.loginOptions(app.ownOrigin(request)))

  app.post('/passkeys/login', {
    schema: {
      summary: 'Sign in with a passkey: sets the session cookies',
      description: 'The answer to the options, as @simplewebauthn/browser startAuthentication() returns it, with an x-csrf-token from GET /auth/csrf and an allowed Origin. Counts as two factors.',
      tags: ['browser'],
      body: AuthenticationRequest,
      response: { 200: BrowserSession, 400: ErrorReply, 403: ErrorReply, 429: ErrorReply }
    }
  }, async (request, reply) => {
    app.verifyCsrf(request, ANONYMOUS)
    // The per-IP limit of the password logins.
    await app.loginAttempt(request)
    const verify = () => app.passkeys.verifyLogin(request.body.response as unknown as AuthenticationResponseJSON, app.ownOrigin(request))
    const issued = await app.sessions.openVerified(verify, { ...clientOf(request), via: 'browser' })
    if (issued === null) throw new PasskeyRefused('This passkey cannot sign in now')
    return reply.startBrowserSession(issued, { rotateCsrf: true })
  })
}

export default passkeys
