import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply } from '../../schemas/common.js'
import { PublicUser } from '../../schemas/user.js'
import { toPublicUser } from '../../schemas/user.js'
import { toSessionView } from '../../schemas/session.js'
import { SessionView } from '../../schemas/session.js'
import { InvalidToken } from '../../errors.js'

const Me = Type.Object({
  user: PublicUser,
  scopes: Type.Array(Type.String()),
  session: SessionView
}, { title: 'Me' })

const me: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/me', {
    onRequest: app.authenticate,
    preHandler: app.requireScopes('profile'),
    schema: {
      summary: 'The signed-in user, the token\'s scopes and its session',
      tags: ['auth'],
      response: { 200: Me, 401: ErrorReply, 403: ErrorReply }
    }
  }, async (request) => {
    const { id, sessionId, scopes } = request.user
    const [user, session] = await Promise.all([
      app.users.findById(id),
      app.sessions.get(sessionId)
    ])
    // The denylist already refuses revoked sessions' tokens; the database has the last word.
    if (user === null || user.disabled || session === null || session.userId !== id ||
      session.revokedAt !== null || session.expiresAt.getTime() <= Date.now()) {
      throw new InvalidToken('The access token no longer matches an account')
    }
    return {
      user: toPublicUser(user),
      scopes: [...scopes],
      session: toSessionView(session, sessionId)
    }
  })
}

export default me
