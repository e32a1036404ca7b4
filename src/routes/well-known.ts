// The documents other services read: the public keys that verify this service's access tokens
// (RFC 7517), and the authorization server's metadata (RFC 8414). Both are public, cacheable,
// and readable from any origin.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { SCOPE_DESCRIPTIONS } from '../roles.js'
import { MFA_OTP_GRANT } from '../schemas/mfa.js'
import { CLIENT_AUTH_METHODS } from '../auth/clients.js'
import { ASSERTION_ALGS } from '../auth/client-assertion.js'

const Jwk = Type.Object({
  kty: Type.String(),
  kid: Type.String(),
  alg: Type.String(),
  use: Type.Literal('sig'),
  crv: Type.Optional(Type.String()),
  x: Type.Optional(Type.String()),
  y: Type.Optional(Type.String()),
  n: Type.Optional(Type.String()),
  e: Type.Optional(Type.String())
}, { title: 'JWK' })

const Metadata = Type.Object({
  issuer: Type.String(),
  token_endpoint: Type.String(),
  jwks_uri: Type.String(),
  revocation_endpoint: Type.String(),
  introspection_endpoint: Type.String(),
  grant_types_supported: Type.Array(Type.String()),
  response_types_supported: Type.Array(Type.String()),
  token_endpoint_auth_methods_supported: Type.Array(Type.String()),
  token_endpoint_auth_signing_alg_values_supported: Type.Array(Type.String()),
  revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
  revocation_endpoint_auth_signing_alg_values_supported: Type.Array(Type.String()),
  introspection_endpoint_auth_methods_supported: Type.Array(Type.String()),
  introspection_endpoint_auth_signing_alg_values_supported: Type.Array(Type.String()),
  scopes_supported: Type.Array(Type.String())
}, { title: 'Authorization server metadata' })

const wellKnown: FastifyPluginAsyncTypebox = async (app) => {
  const { JWKS_MAX_AGE, JWT_ISSUER, publicOrigin } = app.config
  const shared = (maxAge: number) => ({
    'cache-control': `public, max-age=${maxAge}`,
    'cross-origin-resource-policy': 'cross-origin',
    'access-control-allow-origin': '*'
  })
  // PUBLIC_URL when set; else the origin the request came to (the Host header).
  const base = (request: FastifyRequest) => publicOrigin ?? `${request.protocol}://${request.host}`

  app.get('/.well-known/jwks.json', {
    schema: {
      summary: 'The public keys that verify access tokens (JWKS)',
      description: 'Cache it for up to its max-age; a key is published that long before it signs. Empty under HS256.',
      tags: ['keys'],
      // (and 304 to an If-None-Match of its ETag)
      response: { 200: Type.Object({ keys: Type.Array(Jwk) }) }
    }
  }, async (request, reply) => {
    const { body, etag } = app.signingKeys.jwks()
    reply.headers({ ...shared(JWKS_MAX_AGE), etag })
    if (request.headers['if-none-match'] === etag) return (reply as FastifyReply).code(304).send()
    // (already JSON: sent as it is, the text the ETag names)
    return reply.type('application/json; charset=utf-8').serializer(String).send(body as unknown as { keys: [] })
  })

  app.get('/.well-known/oauth-authorization-server', {
    schema: {
      summary: 'Authorization server metadata (RFC 8414)',
      tags: ['keys'],
      response: { 200: Metadata }
    }
  }, async (request, reply) => {
    const origin = base(request)
    reply.headers(shared(3600))
    return {
      issuer: JWT_ISSUER,
      token_endpoint: `${origin}/auth/token`,
      jwks_uri: `${origin}/.well-known/jwks.json`,
      revocation_endpoint: `${origin}/auth/revoke`,
      introspection_endpoint: `${origin}/auth/introspect`,
      grant_types_supported: ['password', 'refresh_token', 'client_credentials', MFA_OTP_GRANT],
      // No authorization endpoint: no response type.
      response_types_supported: [],
      // none: the password and refresh grants' public clients; the others: machine clients.
      token_endpoint_auth_methods_supported: ['none', ...CLIENT_AUTH_METHODS],
      token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
      revocation_endpoint_auth_methods_supported: ['none', ...CLIENT_AUTH_METHODS],
      revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
      introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
      scopes_supported: Object.keys(SCOPE_DESCRIPTIONS)
    }
  })
}

export default wellKnown
