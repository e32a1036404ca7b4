// The machine clients, for admins (clients:read, clients:write) and machine clients granted those scopes.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply, NoContent } from '../../schemas/common.js'
import { ClientChange, ClientId, ClientList, ClientRegistration, ClientView, ClientWithSecret, SecretRotation, toClientView } from '../../schemas/client.js'
import { actorOf as actor } from '../../plugins/app/authenticate.js'

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply }

const clients: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/clients', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('clients:write'),
    schema: {
      summary: 'Register a machine client',
      description: 'A secret-based client gets its client_secret in this answer, and never again.',
      tags: ['clients'],
      body: ClientRegistration,
      response: { 201: ClientWithSecret, ...errors }
    }
  }, async (request, reply) => {
    const { name, scopes, token_endpoint_auth_method: authMethod, jwks } = request.body
    const { client, secret } = await app.clients.register(actor(request), { name, scopes, authMethod, jwks })
    return reply.code(201).send(toClientView(client, secret))
  })

  app.get('/clients', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('clients:read'),
    schema: { summary: 'Every machine client, oldest first', tags: ['clients'], response: { 200: ClientList, ...errors } }
  }, async () => ({ clients: (await app.clients.list()).map(client => toClientView(client)) }))

  app.get('/clients/:id', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('clients:read'),
    schema: { summary: 'One machine client', tags: ['clients'], params: ClientId, response: { 200: ClientView, 404: ErrorReply, ...errors } }
  }, async (request) => toClientView(await app.clients.get(request.params.id)))

  app.patch('/clients/:id', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('clients:write'),
    schema: {
      summary: 'Rename, change scopes, disable or enable a machine client',
      description: 'Disabling, or taking a scope away, refuses the tokens the client holds at once.',
      tags: ['clients'],
      params: ClientId,
      body: ClientChange,
      response: { 200: ClientView, 404: ErrorReply, ...errors }
    }
  }, async (request) => toClientView(await app.clients.update(actor(request), request.params.id, request.body)))

  app.post('/clients/:id/secret', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('clients:write'),
    schema: {
      summary: "Rotate a machine client's secret",
      description: 'The answer holds the new secret, once. The current one keeps working for grace_seconds (CLIENT_SECRET_GRACE by default; 0 ends it now).',
      tags: ['clients'],
      params: ClientId,
      body: SecretRotation,
      response: { 200: ClientWithSecret, 404: ErrorReply, ...errors }
    }
  }, async (request) => {
    const { client, secret } = await app.clients.rotateSecret(actor(request), request.params.id, request.body.grace_seconds)
    return toClientView(client, secret)
  })

  app.delete('/clients/:id', {
    onRequest: app.authenticateCaller,
    preHandler: app.requireScopes('clients:write'),
    schema: { summary: 'Delete a machine client; its tokens stop working at once', tags: ['clients'], params: ClientId, response: { 204: NoContent, 404: ErrorReply, ...errors } }
  }, async (request, reply) => {
    await app.clients.remove(actor(request), request.params.id)
    return reply.code(204).send(null)
  })
}

export default clients
