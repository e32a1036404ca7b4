// Browser login: the same credentials as the token endpoint, answered with HttpOnly cookies and
// a CSRF token, never with a token a script could read. Protected against login CSRF: the
// request must come from an allowed origin with a pre-login CSRF token (GET /auth/csrf).
// A user with a second factor gets { mfaRequired, methods } and no session until
// POST /auth/login/mfa brings a code, with the same CSRF token and the pending login's cookie.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { formsOnly } from '../../plugins/app/bodies.js'
import { ErrorReply } from '../../schemas/common.js'
import { BrowserSession, LoginRequest } from '../../schemas/session.js'
import { parseScope } from '../../roles.js'
import { ANONYMOUS } from '../../plugins/app/csrf.js'
import { InvalidCredentials, InvalidMfaToken } from '../../errors.js'
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { CodeRequest, MfaChallenge } from '../../schemas/mfa.js'
import { AuthenticationRequest } from '../../schemas/passkeys.js'
import { clientOf } from '../../schemas/audit.js'

const login: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(formsOnly)

  app.post('/login', {
    schema: {
      summary: 'Browser login: sets the session cookies',
      description: 'Needs an x-csrf-token from GET /auth/csrf and an allowed Origin.',
      tags: ['browser'],
      consumes: ['application/json', 'application/x-www-form-urlencoded'],
      body: LoginRequest,
      response: { 200: Type.Union([BrowserSession, MfaChallenge]), 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 429: ErrorReply }
    }
  }, async (request, reply) => {
    app.verifyCsrf(request, ANONYMOUS)
    const { username, password, scope } = request.body
    const attempt = await app.loginAttempt(request, reply)
    const issued = await app.sessions.login(username, password, parseScope(scope), { ...clientOf(request), via: 'browser' }, attempt)
    if (issued === null) throw new InvalidCredentials()
    if ('mfaToken' in issued) return reply.awaitSecondFactor(issued)
    return reply.startBrowserSession(issued, { rotateCsrf: true })
  })

  app.post('/login/mfa', {
    schema: {
      summary: 'Browser login, second step: a code of the authenticator app, a recovery code, or a passkey',
      description: 'After POST /auth/login answered mfaRequired; the same x-csrf-token. { code }, or { response }: a passkey\'s answer to POST /auth/passkeys/login/options. Sets the session cookies.',
      tags: ['browser'],
      consumes: ['application/json', 'application/x-www-form-urlencoded'],
      body: Type.Union([CodeRequest, AuthenticationRequest]),
      response: { 200: BrowserSession, 400: ErrorReply, 403: ErrorReply, 429: ErrorReply }
    }
  }, async (request, reply) => {
    app.verifyCsrf(request, ANONYMOUS)
    const pending = request.pendingLoginCookie()
    if (pending === undefined) throw new InvalidMfaToken()
    const attempt = await app.loginAttempt(request, reply)
    const { body } = request
    const proof = 'code' in body
      ? body.code
      : () => app.passkeys.verifyLogin(body.response as unknown as AuthenticationResponseJSON, app.ownOrigin(request))
    const issued = await app.sessions.secondFactor(pending, proof, { ...clientOf(request), via: 'browser' }, attempt)
    return reply.startBrowserSession(issued, { rotateCsrf: true })
  })
}

export default login
