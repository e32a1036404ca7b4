import { Type, type Static } from '@sinclair/typebox'
import { MAIL_TOKEN_PATTERN } from '../auth/mail-tokens.js'
import { Email, NewPassword } from './user.js'

const MailToken = Type.String({ pattern: MAIL_TOKEN_PATTERN, description: 'The token of the link in the mail (after "=" in its fragment)' })

export const AddressBody = Type.Object({ email: Email }, { additionalProperties: false })
export type AddressBody = Static<typeof AddressBody>

export const ResetBody = Type.Object({ token: MailToken, newPassword: NewPassword }, { additionalProperties: false })
export type ResetBody = Static<typeof ResetBody>

export const VerifyBody = Type.Object({ token: MailToken }, { additionalProperties: false })
export type VerifyBody = Static<typeof VerifyBody>

export const EmailChangeBody = Type.Object({
  newEmail: Email,
  password: Type.String({ maxLength: 1024, description: 'The current password' })
}, { additionalProperties: false })
export type EmailChangeBody = Static<typeof EmailChangeBody>

export const Verified = Type.Object({
  email: Type.String({ description: 'The account\'s address, now verified' }),
  changed: Type.Boolean({ description: 'true when the link confirmed a new address' })
})

/** The one answer of the flows that start from an address, whether or not an account has it. */
export const MAIL_ACCEPTED = { message: 'If an account has this address, a mail is on its way' }
export const Accepted = Type.Object({ message: Type.String() })
