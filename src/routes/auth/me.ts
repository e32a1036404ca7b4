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
    const signedIn = await app.sessions.signedIn(id, sessionId)
    if (signedIn === null) throw new InvalidToken('The access token no longer matches an account')
    return {
      user: toPublicUser(signedIn.user),
      scopes: [...scopes],
      session: toSessionView(signedIn.session, sessionId)
    }
  })
}

export default me
