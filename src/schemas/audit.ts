import { Type, type Static } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'

export const AUDIT_TYPES = [
  'user_created', 'login_succeeded', 'login_failed', 'refresh_reuse_detected', 'logout', 'logout_all',
  'session_ended', 'password_changed', 'roles_changed', 'user_disabled', 'user_enabled', 'user_deleted',
  'sessions_revoked', 'token_revoked', 'signing_key_created', 'signing_key_revoked',
  'client_created', 'client_updated', 'client_secret_rotated', 'client_deleted',
  'password_reset_requested', 'password_reset', 'email_verification_requested', 'email_verified',
  'email_change_requested', 'email_changed', 'email_verified_set',
  'login_mfa_required', 'mfa_enabled', 'mfa_disabled', 'mfa_failed', 'mfa_recovery_code_used',
  'mfa_recovery_codes_regenerated', 'mfa_reset', 'passkey_added', 'passkey_removed'
] as const
export type AuditType = typeof AUDIT_TYPES[number]

export const AuditEventView = Type.Object({
  id: Type.Integer({ description: 'Increasing: newer events have larger ids' }),
  at: Type.String({ format: 'date-time' }),
  type: Type.Union(AUDIT_TYPES.map(type => Type.Literal(type))),
  userId: Type.Union([Type.String(), Type.Null()], { description: 'The account the event is about' }),
  actorId: Type.Union([Type.String(), Type.Null()], { description: 'Who acted, when that was someone else' }),
  sessionId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])
}, { title: 'Audit event' })
export type AuditEventView = Static<typeof AuditEventView>

/** An event of the trail as the admin API shows it. */
export function toAuditEventView (event: { seq: number, at: Date, type: string, userId: string | null, actorId: string | null,
  sessionId: string | null, ip: string | null, userAgent: string | null, detail: Record<string, unknown> | null }): AuditEventView {
  const { seq, at, type, ...rest } = event
  return { id: seq, at: at.toISOString(), type: type as AuditType, ...rest }
}

// As sessions and the audit trail store it: informational, bounded.
export const MAX_USER_AGENT = 512

/** The client half of an audit entry (and of a session), from a request. */
export function clientOf (request: FastifyRequest) {
  return { ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, MAX_USER_AGENT) ?? null }
}
export type ClientInfo = ReturnType<typeof clientOf>
