import { Type, type Static } from '@sinclair/typebox'
import { CLIENT_SCOPES } from '../roles.js'

const ClientScope = Type.Union(CLIENT_SCOPES.map(scope => Type.Literal(scope)))
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })
const AuthMethod = Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post'), Type.Literal('private_key_jwt')], {
  description: 'How the client authenticates at the token endpoint: a secret (Basic or in the form: either works) or assertions signed by a key of jwks'
})
const Jwk = Type.Object({ kty: Type.String({ maxLength: 16 }) }, { additionalProperties: true })
const Jwks = Type.Object({ keys: Type.Array(Jwk, { minItems: 1, maxItems: 10 }) }, { additionalProperties: false, description: 'The public keys of a private_key_jwt client' })

// The registration's names are RFC 7591's; the rest of the view is named as the admin API's.
export const ClientRegistration = Type.Object({
  name: Name,
  scopes: Type.Array(ClientScope, { minItems: 1, maxItems: CLIENT_SCOPES.length, uniqueItems: true }),
  token_endpoint_auth_method: Type.Optional(AuthMethod),
  jwks: Type.Optional(Jwks)
}, { additionalProperties: false })
export type ClientRegistration = Static<typeof ClientRegistration>

export const ClientChange = Type.Object({
  name: Type.Optional(Name),
  scopes: Type.Optional(Type.Array(ClientScope, { minItems: 1, maxItems: CLIENT_SCOPES.length, uniqueItems: true })),
  disabled: Type.Optional(Type.Boolean({ description: 'Disabling refuses its tokens at once' }))
}, { additionalProperties: false, minProperties: 1 })

export const SecretRotation = Type.Object({
  grace_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 24 * 3600, description: 'How long the current secret keeps working; CLIENT_SECRET_GRACE when absent' }))
}, { additionalProperties: false })

export const ClientId = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const ClientView = Type.Object({
  client_id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  token_endpoint_auth_method: AuthMethod,
  jwks: Type.Optional(Jwks),
  disabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Its last authentication, to the minute' }),
  previousSecretExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Until when the secret a rotation replaced still works' })
}, { title: 'Machine client' })
export type ClientView = Static<typeof ClientView>

export const ClientWithSecret = Type.Composite([ClientView, Type.Object({
  client_secret: Type.Optional(Type.String({ description: 'Shown this once: only its hash is kept' }))
})], { title: 'Machine client, with its new secret' })

export const ClientList = Type.Object({ clients: Type.Array(ClientView) })

/** A client as the domain keeps it (src/store/records.ts, OAuthClientRecord). */
interface ClientFacts {
  id: string
  name: string
  scopes: string[]
  authMethod: ClientView['token_endpoint_auth_method']
  jwks: unknown
  disabled: boolean
  createdAt: Date
  lastUsedAt: Date | null
  previousSecretExpiresAt: Date | null
}

export function toClientView (client: ClientFacts, secret?: string | null): ClientView & { client_secret?: string } {
  return {
    client_id: client.id,
    name: client.name,
    scopes: client.scopes,
    token_endpoint_auth_method: client.authMethod,
    ...(client.jwks !== null && { jwks: client.jwks as ClientView['jwks'] }),
    disabled: client.disabled,
    createdAt: client.createdAt.toISOString(),
    lastUsedAt: client.lastUsedAt?.toISOString() ?? null,
    previousSecretExpiresAt: client.previousSecretExpiresAt !== null && client.previousSecretExpiresAt.getTime() > Date.now() ? client.previousSecretExpiresAt.toISOString() : null,
    ...(typeof secret === 'string' && { client_secret: secret })
  }
}
