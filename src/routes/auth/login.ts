// Browser login: the same credentials as the token endpoint, answered with HttpOnly cookies and
// a CSRF token, never with a token a script could read. Protected against login CSRF: the
// request must come from an allowed origin with a pre-login CSRF token (GET /auth/csrf).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { formsOnly } from '../../plugins/app/bodies.js'
import { ErrorReply } from '../../schemas/common.js'
import { BrowserSession, LoginRequest } from '../../schemas/session.js'
import { parseScope } from '../../roles.js'
import { ANONYMOUS } from '../../plugins/app/csrf.js'
import { InvalidCredentials } from '../../errors.js'
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
      response: { 200: BrowserSession, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 429: ErrorReply }
    }
  }, async (request, reply) => {
    app.verifyCsrf(request, ANONYMOUS)
    const { username, password, scope } = request.body
    const attempt = await app.passwordAttempt(request, reply)
    const issued = await app.sessions.login(username, password, parseScope(scope), { ...clientOf(request), via: 'browser' }, attempt)
    if (issued === null) throw new InvalidCredentials()
    return reply.startBrowserSession(issued, { rotateCsrf: true })
  })
}

export default login
