import { Type, type Static } from '@sinclair/typebox'

/** The token endpoint's grant for the second step of a login (the shape Auth0's clients know). */
export const MFA_OTP_GRANT = 'urn:authd:params:oauth:grant-type:mfa-otp'

/** The password grant's answer for a user with a second factor. */
export const MfaRequiredReply = Type.Object({
  error: Type.Literal('mfa_required'),
  error_description: Type.String(),
  mfa_token: Type.String({ description: `Post it back with grant_type=${MFA_OTP_GRANT} and otp (a TOTP or recovery code) within 5 minutes; it works once` })
}, { title: 'Second factor required' })

/** The browser login's answer for a user with a second factor: no cookie yet but the pending login's. */
export const MfaChallenge = Type.Object({
  mfaRequired: Type.Literal(true),
  methods: Type.Array(Type.String(), { description: 'totp, recovery_code, and passkey if the user has one: what POST /auth/login/mfa takes' })
}, { title: 'Second factor required' })

const Code = Type.String({ minLength: 1, maxLength: 64, description: 'The 6-digit code of the authenticator app, or a recovery code' })

export const CodeRequest = Type.Object({ code: Code }, { additionalProperties: false })
export type CodeRequest = Static<typeof CodeRequest>

export const TotpSetup = Type.Object({
  secret: Type.String({ description: 'Base32, for an app that cannot scan' }),
  uri: Type.String({ description: 'otpauth:// URI, as the QR code holds it' }),
  qrCode: Type.String({ description: 'The URI as a QR code: an SVG image' })
}, { title: 'TOTP setup' })

export const RecoveryCodes = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { description: 'Each works once, in place of a code of the app; shown this once' })
}, { title: 'Recovery codes' })

export const DisableTotpRequest = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  code: Code
}, { additionalProperties: false })
export type DisableTotpRequest = Static<typeof DisableTotpRequest>

export const PasswordRequest = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false })

export const MfaStatus = Type.Object({
  totp: Type.Boolean({ description: 'An authenticator app is on: a password login asks for a code' }),
  recoveryCodes: Type.Integer({ description: 'Recovery codes left unused' }),
  passkeys: Type.Integer()
}, { title: 'Second factors' })
