import { Type, type Static } from '@sinclair/typebox'
import { MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH } from '../auth/password-rules.js'
import { iso } from './common.js'

export const Username = Type.String({
  minLength: 3,
  maxLength: 32,
  pattern: '^[A-Za-z0-9_.-]+$',
  description: '3 to 32 of A-Z a-z 0-9 _ . -; case-insensitive (stored lower-cased)'
})

export const Email = Type.String({ format: 'email', maxLength: 254, description: 'Stored lower-cased' })

export const NewPassword = Type.String({
  description: `At least ${MIN_PASSWORD_LENGTH} characters and at most ${MAX_PASSWORD_BYTES} bytes of UTF-8`
})

export const RegisterBody = Type.Object({
  username: Username,
  email: Email,
  password: NewPassword
}, { additionalProperties: false })
export type RegisterBody = Static<typeof RegisterBody>

export const PublicUser = Type.Object({
  id: Type.String({ format: 'uuid' }),
  username: Type.String(),
  email: Type.String(),
  emailVerified: Type.Boolean({ description: 'The owner followed a link mailed to this address' }),
  roles: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' })
}, { title: 'User' })
export type PublicUser = Static<typeof PublicUser>

/** A user as anyone may see it: never the hash, the password version or the flags. */
export function toPublicUser (user: { id: string, username: string, email: string, emailVerified: boolean, roles: string[], createdAt: Date | string }): PublicUser {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    emailVerified: user.emailVerified,
    roles: user.roles,
    createdAt: iso(user.createdAt)
  }
}

export const PasswordChange = Type.Object({
  currentPassword: Type.String({ maxLength: 1024 }),
  newPassword: NewPassword
}, { additionalProperties: false })
export type PasswordChange = Static<typeof PasswordChange>
