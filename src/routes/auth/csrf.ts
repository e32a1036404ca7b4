// GET /auth/csrf: the CSRF token a page needs after a reload, bound to whichever session its
// cookies name (the access cookie's, else the refresh cookie's), or an anonymous one to log in.
// Safe to answer: only our origins may read it (CORS), and it is useless without the cookies.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ANONYMOUS } from '../../plugins/app/csrf.js'

const csrf: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/csrf', {
    schema: {
      summary: 'A CSRF token for the browser session, or for logging in',
      tags: ['browser'],
      response: {
        200: Type.Object({
          csrfToken: Type.String(),
          signedIn: Type.Boolean({ description: 'Whether the cookies name a live session' })
        })
      }
    }
  }, async (request, reply) => {
    let session: string | null = null
    const accessToken = request.accessCookie()
    try {
      const caller = accessToken === undefined ? undefined : app.verifyAccessToken(accessToken, 'cookie')
      if (caller?.kind === 'user') session = caller.sessionId
    } catch {
      // An expired or revoked access cookie: the refresh cookie may still name the session.
    }
    const refreshToken = request.refreshCookie()
    if (session === null && refreshToken !== undefined) session = await app.sessions.sessionOf(refreshToken)
    return { csrfToken: reply.csrfToken(session ?? ANONYMOUS), signedIn: session !== null }
  })
}

export default csrf
