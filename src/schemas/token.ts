import { Type, type Static } from '@sinclair/typebox'

// RFC 6749 §4.3.2 and §6. Every field is optional here so that a missing one is answered with
// invalid_request by the handler (the RFC's error) rather than a schema message, and unknown
// parameters (client_id from Swagger UI, say) are ignored as §3.2 requires.
/** How a client authenticates in the body (RFC 6749 §2.3.1, RFC 7523 §2.2); Basic goes in the header. */
export const ClientAuthFields = {
  client_id: Type.Optional(Type.String({ maxLength: 256 })),
  client_secret: Type.Optional(Type.String({ maxLength: 256, description: 'client_secret_post' })),
  client_assertion_type: Type.Optional(Type.String({ maxLength: 128, description: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' })),
  client_assertion: Type.Optional(Type.String({ maxLength: 8192, description: 'private_key_jwt: a JWT signed by a key the client registered' }))
}

export const TokenRequest = Type.Object({
  grant_type: Type.Optional(Type.String({ maxLength: 64, description: 'password (the default), refresh_token, client_credentials or urn:authd:params:oauth:grant-type:mfa-otp' })),
  username: Type.Optional(Type.String({ maxLength: 254, description: 'Username or email' })),
  password: Type.Optional(Type.String({ maxLength: 1024 })),
  scope: Type.Optional(Type.String({ maxLength: 1024, description: 'Space-separated scopes; all granted ones when absent' })),
  refresh_token: Type.Optional(Type.String({ maxLength: 4096, description: 'For grant_type=refresh_token' })),
  mfa_token: Type.Optional(Type.String({ maxLength: 256, description: 'For the mfa-otp grant: from the password grant\'s mfa_required answer' })),
  otp: Type.Optional(Type.String({ maxLength: 64, description: 'For the mfa-otp grant: a code of the authenticator app, or a recovery code' })),
  ...ClientAuthFields
}, { additionalProperties: true })
export type TokenRequest = Static<typeof TokenRequest>

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
  refresh_token: Type.Optional(Type.String({ description: 'Opaque; single use: each refresh returns the next one. None for client_credentials' })),
  scope: Type.String()
}, { title: 'Token response' })
export type TokenResponse = Static<typeof TokenResponse>

/** The token endpoint's answer (RFC 6749 §5.1) for tokens just issued. */
export const tokenResponse = (issued: { accessToken: string, expiresIn: number, refreshToken: string, scope: string }): TokenResponse => ({
  access_token: issued.accessToken,
  token_type: 'Bearer',
  expires_in: issued.expiresIn,
  refresh_token: issued.refreshToken,
  scope: issued.scope
})

export const RefreshRequest = Type.Object({
  refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'API clients; browsers send the cookie instead' })),
  scope: Type.Optional(Type.String({ maxLength: 1024, description: 'Fewer scopes than the session has; never more' }))
}, { additionalProperties: false })
export type RefreshRequest = Static<typeof RefreshRequest>
