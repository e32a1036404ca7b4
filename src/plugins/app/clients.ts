// Machine clients (src/auth/clients.ts): registration and management, authentication, tokens.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { createClients, type Clients } from '../../auth/clients.js'
import { clientCredentials, type CredentialFields } from '../../auth/client-credentials.js'
import { InvalidClient } from '../../errors.js'
import type { OAuthClientRecord } from '../../store/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    clients: Clients
    /**
     * The client a request authenticates as (Basic, the body's secret, or an assertion); throws
     * invalid_client, or rate_limited. With `optional`, undefined when it presents no client
     * credentials at all.
     */
    authenticateClient (request: FastifyRequest, fields: CredentialFields): Promise<OAuthClientRecord>
    authenticateClient (request: FastifyRequest, fields: CredentialFields, optional: true): Promise<OAuthClientRecord | undefined>
  }
}

export default fp(async function clients (app) {
  app.decorate('clients', createClients({
    store: app.store,
    revocation: app.revocation,
    sign: app.accessTokens.sign,
    verify: token => app.accessTokens.verify<{ sub: string, jti: string, exp: number, client_id?: unknown }>(token),
    config: app.config,
    log: app.log
  }))

  const { JWT_ISSUER, publicOrigin } = app.config
  app.decorate('authenticateClient', async function (request: FastifyRequest, fields: CredentialFields, optional = false): Promise<OAuthClientRecord | undefined> {
    const credentials = clientCredentials(request.headers.authorization, fields)
    if (credentials === undefined) {
      if (optional) return undefined
      throw new InvalidClient()
    }
    // An assertion names this server as its audience: the issuer, the token endpoint (as most
    // client libraries do for every endpoint), or the endpoint it is sent to.
    const origin = publicOrigin ?? `${request.protocol}://${request.host}`
    const path = request.url.split('?')[0]
    return await app.clients.authenticate(credentials, [JWT_ISSUER, `${origin}/auth/token`, `${origin}${path}`])
  })
}, { name: 'clients', dependencies: ['store', 'revocation', 'access-tokens'] })
