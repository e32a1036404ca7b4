import { Type, type Static } from '@sinclair/typebox'
import { ROLE_SCOPES } from '../roles.js'
import { PublicUser, toPublicUser } from './user.js'
import { iso } from './common.js'
import { MfaStatus } from './mfa.js'
import { SessionView } from './session.js'
import { AUDIT_TYPES, AuditEventView } from './audit.js'

export const Role = Type.Union(Object.keys(ROLE_SCOPES).map(role => Type.Literal(role)))

export const AdminUser = Type.Composite([PublicUser, Type.Object({
  disabled: Type.Boolean(),
  updatedAt: Type.String({ format: 'date-time' })
})], { title: 'User (admin view)' })
export type AdminUser = Static<typeof AdminUser>

/** A user as an admin sees it: the public view, whether it is disabled, and its last change. */
export function toAdminUser (user: Parameters<typeof toPublicUser>[0] & { disabled: boolean, updatedAt: Date | string }): AdminUser {
  return { ...toPublicUser(user), disabled: user.disabled, updatedAt: iso(user.updatedAt) }
}

const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 20 })
const Cursor = Type.String({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page' })

export const UserQuery = Type.Object({
  limit: Limit,
  cursor: Type.Optional(Cursor),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Username prefix' })),
  email: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: 'Email prefix' })),
  role: Type.Optional(Role),
  disabled: Type.Optional(Type.Boolean())
}, { additionalProperties: false })
export type UserQuery = Static<typeof UserQuery>

export const UserPage = Type.Object({
  users: Type.Array(AdminUser),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' })
})

export const UserDetail = Type.Object({ user: AdminUser, sessions: Type.Array(SessionView), secondFactors: MfaStatus })

export const SecondFactorsReset = Type.Object({
  totp: Type.Boolean({ description: 'An authenticator app (and its recovery codes) was removed' }),
  passkeys: Type.Integer({ description: 'Passkeys removed' })
}, { title: 'Second factors removed' })

export const UserChange = Type.Object({
  roles: Type.Optional(Type.Array(Role, { uniqueItems: true, minItems: 1, maxItems: 16 })),
  disabled: Type.Optional(Type.Boolean({ description: 'true ends every session of the user at once' })),
  emailVerified: Type.Optional(Type.Boolean({ description: 'Whether the address counts as verified' }))
}, { additionalProperties: false, minProperties: 1 })
export type UserChange = Static<typeof UserChange>

export const UserId = Type.Object({ id: Type.String({ maxLength: 64 }) })

export const AuditQuery = Type.Object({
  limit: Limit,
  cursor: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'nextCursor of the previous page' })),
  userId: Type.Optional(Type.String({ maxLength: 64, description: 'Events about this user' })),
  actorId: Type.Optional(Type.String({ maxLength: 64, description: 'Events by this admin' })),
  type: Type.Optional(Type.Union(AUDIT_TYPES.map(type => Type.Literal(type))))
}, { additionalProperties: false })
export type AuditQuery = Static<typeof AuditQuery>

export const AuditPage = Type.Object({
  events: Type.Array(AuditEventView),
  nextCursor: Type.Union([Type.Integer(), Type.Null()])
})
