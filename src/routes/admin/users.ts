import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply, NoContent } from '../../schemas/common.js'
import { UserChange, UserDetail, UserId, UserPage, UserQuery, AdminUser, SecondFactorsReset, toAdminUser } from '../../schemas/admin.js'
import { toSessionView } from '../../schemas/session.js'
import { Accepted } from '../../schemas/recovery.js'
import { actorOf as actor } from '../../plugins/app/authenticate.js'

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply }

const users: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/users', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('users:read'),
    schema: {
      summary: 'List users, oldest first, a page at a time',
      tags: ['admin'],
      querystring: UserQuery,
      response: { 200: UserPage, ...errors }
    }
  }, async (request) => {
    const { users, nextCursor } = await app.admin.list(request.query)
    return { users: users.map(toAdminUser), nextCursor }
  })

  app.get('/users/:id', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('users:read'),
    schema: {
      summary: 'One user, their live sessions and their second factors',
      tags: ['admin'],
      params: UserId,
      response: { 200: UserDetail, 404: ErrorReply, ...errors }
    }
  }, async (request) => {
    const { user, sessions } = await app.admin.get(request.params.id)
    return {
      user: toAdminUser(user),
      sessions: sessions.map(session => toSessionView(session, actor(request).sessionId)),
      secondFactors: await app.secondFactors.status(user.id)
    }
  })

  app.patch('/users/:id', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('users:write'),
    schema: {
      summary: 'Set roles, disabled or emailVerified',
      description: 'Disabling ends every session of the user at once. No change may leave the service without an enabled admin (409 last_admin).',
      tags: ['admin'],
      params: UserId,
      body: UserChange,
      response: { 200: AdminUser, 404: ErrorReply, 409: ErrorReply, ...errors }
    }
  }, async (request) => toAdminUser(await app.admin.update(actor(request), request.params.id, request.body)))

  app.delete('/users/:id', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('users:write'),
    schema: {
      summary: 'Delete a user; their sessions and tokens stop working at once',
      tags: ['admin'],
      params: UserId,
      response: { 204: NoContent, 404: ErrorReply, 409: ErrorReply, ...errors }
    }
  }, async (request, reply) => {
    await app.admin.remove(actor(request), request.params.id)
    return reply.code(204).send(null)
  })

  app.post('/users/:id/password-reset', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('users:write'),
    schema: {
      summary: 'Mail the user a password-reset link',
      description: 'The link works once, for RESET_TOKEN_TTL; the password stays as it is until the user follows it.',
      tags: ['admin'],
      params: UserId,
      response: { 202: Accepted, 404: ErrorReply, 503: ErrorReply, ...errors }
    }
  }, async (request, reply) => {
    await app.recovery.sendReset(actor(request), request.params.id)
    return reply.code(202).send({ message: 'A reset link is on its way to the user' })
  })

  app.delete('/users/:id/second-factors', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('users:write'),
    schema: {
      summary: 'Remove the second factors of a user who lost them',
      description: 'The authenticator app, its recovery codes and the passkeys go; the user signs in with the password and sets up anew, and is told by mail. Sessions stay.',
      tags: ['admin'],
      params: UserId,
      response: { 200: SecondFactorsReset, 404: ErrorReply, ...errors }
    }
  }, async (request) => await app.secondFactors.reset(actor(request), request.params.id))

  app.post('/users/:id/sessions/revoke', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('sessions:revoke'),
    schema: {
      summary: 'End every session of a user',
      tags: ['admin'],
      params: UserId,
      response: { 200: Type.Object({ sessionsEnded: Type.Integer() }), 404: ErrorReply, ...errors }
    }
  }, async (request) => ({ sessionsEnded: await app.admin.endSessions(actor(request), request.params.id) }))
}

export default users
