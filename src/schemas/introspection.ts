import { Type, type Static } from '@sinclair/typebox'
import { ClientAuthFields } from './token.js'

// RFC 7662 §2.1. Client authentication may come in the body as at the token endpoint.
export const IntrospectionRequest = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 8192 })),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64, description: 'access_token or refresh_token' })),
  ...ClientAuthFields
}, { additionalProperties: true })
export type IntrospectionRequest = Static<typeof IntrospectionRequest>

// RFC 7662 §2.2: only `active` when the token is not live.
export const IntrospectionResponse = Type.Object({
  active: Type.Boolean(),
  scope: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String({ description: 'For a machine client\'s token' })),
  username: Type.Optional(Type.String({ description: 'For a user\'s token' })),
  token_type: Type.Optional(Type.Union([Type.Literal('Bearer'), Type.Literal('refresh_token')])),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  sub: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  iss: Type.Optional(Type.String()),
  jti: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String({ description: 'The session of a user\'s token' })),
  amr: Type.Optional(Type.Array(Type.String(), { description: 'How the user authenticated (RFC 8176): pwd; pwd otp mfa' })),
  auth_time: Type.Optional(Type.Integer({ description: 'When the session was opened' }))
}, { title: 'Introspection response' })
