// POST /auth/refresh, for both kinds of client. API clients send { refresh_token } and get
// tokens back, as from the token endpoint. Browsers send nothing but their refresh cookie (and
// the CSRF token of its session) and get both cookies set again.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply } from '../../schemas/common.js'
import { RefreshRequest, TokenResponse, tokenResponse } from '../../schemas/token.js'
import { BrowserSession } from '../../schemas/session.js'
import { parseScope } from '../../roles.js'
import { InvalidGrant } from '../../errors.js'
import { clientOf } from '../../schemas/audit.js'

const refresh: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/refresh', {
    // A browser's refresh may have no body at all: the cookie is the credential.
    preValidation: async (request) => { request.body ??= {} },
    schema: {
      summary: 'Rotate a refresh token: a new access token and the next refresh token',
      description: 'The token presented is used up. Presented again within REFRESH_REUSE_GRACE seconds it returns ' +
        'the same next token; later, it ends the whole session. Without refresh_token in the body, the refresh ' +
        'cookie is used (browser mode: x-csrf-token required, cookies set again, no token in the body). ' +
        'RATE_LIMIT_REFRESH rotations a minute per session, then 429.',
      tags: ['auth'],
      body: Type.Optional(RefreshRequest),
      response: { 200: Type.Union([TokenResponse, BrowserSession]), 400: ErrorReply, 403: ErrorReply, 429: ErrorReply }
    }
  }, async (request, reply) => {
    const requested = parseScope(request.body?.scope)
    const presented = request.body?.refresh_token
    if (presented !== undefined) return tokenResponse(await app.sessions.refresh(presented, requested, clientOf(request)))

    const cookie = request.refreshCookie()
    const session = cookie === undefined ? null : await app.sessions.sessionOf(cookie)
    if (cookie === undefined || session === null) {
      reply.clearSessionCookies()
      throw new InvalidGrant(cookie === undefined ? 'No refresh token was sent' : 'The refresh token is invalid')
    }
    app.verifyCsrf(request, session)
    try {
      return reply.startBrowserSession(await app.sessions.refresh(cookie, requested, clientOf(request)))
    } catch (err) {
      // A dead session's cookies are of no more use to the browser.
      if (err instanceof InvalidGrant) reply.clearSessionCookies()
      throw err
    }
  })
}

export default refresh
