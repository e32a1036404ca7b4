import { Type } from '@sinclair/typebox'
import { iso } from './common.js'

const B64 = (maxLength: number) => Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength })

/** What @simplewebauthn/server makes for the browser; @simplewebauthn/browser takes it as it is. */
export const CreationOptions = Type.Object({ challenge: Type.String() }, {
  additionalProperties: true, title: 'WebAuthn creation options', description: 'PublicKeyCredentialCreationOptionsJSON: pass to startRegistration({ optionsJSON })'
})
export const RequestOptions = Type.Object({ challenge: Type.String() }, {
  additionalProperties: true, title: 'WebAuthn request options', description: 'PublicKeyCredentialRequestOptionsJSON: pass to startAuthentication({ optionsJSON })'
})

// The browser's answers, as @simplewebauthn/browser (and PublicKeyCredential.toJSON()) send them.
const Answer = {
  id: B64(1024),
  rawId: B64(1024),
  type: Type.Literal('public-key'),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  clientExtensionResults: Type.Object({}, { additionalProperties: true })
}

export const RegistrationRequest = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'How the list shows it; "Passkey N" when absent' })),
  response: Type.Object({
    ...Answer,
    response: Type.Object({
      clientDataJSON: B64(4096),
      attestationObject: B64(8192),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 }))
    }, { additionalProperties: true })
  }, { additionalProperties: true })
}, { additionalProperties: false })

export const AuthenticationRequest = Type.Object({
  response: Type.Object({
    ...Answer,
    response: Type.Object({
      clientDataJSON: B64(4096),
      authenticatorData: B64(4096),
      signature: B64(4096),
      userHandle: Type.Optional(B64(512))
    }, { additionalProperties: true })
  }, { additionalProperties: true })
}, { additionalProperties: false })

export const PasskeyView = Type.Object({
  id: Type.String({ description: 'The credential id' }),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  synced: Type.Boolean({ description: 'A multi-device passkey, kept by a password manager or platform account' })
}, { title: 'Passkey' })

export interface PasskeyFacts { id: string, name: string, createdAt: Date, lastUsedAt: Date | null, deviceType: string }

export const toPasskeyView = (passkey: PasskeyFacts) => ({
  id: passkey.id,
  name: passkey.name,
  createdAt: iso(passkey.createdAt),
  lastUsedAt: passkey.lastUsedAt === null ? null : iso(passkey.lastUsedAt),
  synced: passkey.deviceType === 'multiDevice'
})

export const PasskeyList = Type.Object({ passkeys: Type.Array(PasskeyView) })
export const PasskeyId = Type.Object({ id: B64(1024) })
