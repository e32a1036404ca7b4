// SQLite's rows as the raw statements read them, turned into the store's records. Prisma writes
// dates as ISO text (the adapter's timestampFormat 'iso8601', pinned in ./database.ts) and
// integers come back as BigInt (the adapter sets safe integers).
import type { Session, SessionSummary, User, UserSummary } from './records.js'

/**
 * A time as Prisma writes it with the adapter's timestampFormat 'iso8601', and as raw statements
 * must write and compare it: SQLite compares these columns as text, which orders correctly only
 * when every value has the same form.
 */
export const isoText = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00')

export interface SessionRow extends Omit<Session, 'createdAt' | 'lastUsedAt' | 'expiresAt' | 'revokedAt'> {
  createdAt: string
  lastUsedAt: string
  expiresAt: string
  revokedAt: string | null
}

/** A user's row with its roles, space-separated, in one column. */
export interface UserRow extends Omit<User, 'disabled' | 'emailVerified' | 'passwordVersion' | 'createdAt' | 'updatedAt' | 'roles'> {
  disabled: bigint | number | boolean
  emailVerified: bigint | number | boolean
  passwordVersion: bigint | number
  createdAt: string
  updatedAt: string
  roles: string | null
}

export type SessionSummaryRow = SessionSummary
export type UserSummaryRow = Omit<UserSummary, 'disabled' | 'emailVerified' | 'roles'> & { disabled: bigint | number | boolean, emailVerified: bigint | number | boolean, roles: string | null }

/**
 * A stored time as ISO 8601 text in UTC, as toISOString() writes it: Prisma's own form
 * (2026-11-27T16:37:24.988+00:00) needs only its offset replaced.
 */
export function isoZ (text: string): string {
  return text.length === 29 && text.endsWith('+00:00') ? text.slice(0, 23) + 'Z' : new Date(text).toISOString()
}

export function toSessionSummary (row: SessionSummaryRow): SessionSummary {
  return { ...row, createdAt: isoZ(row.createdAt), lastUsedAt: isoZ(row.lastUsedAt), expiresAt: isoZ(row.expiresAt) }
}

export function toUserSummary (row: UserSummaryRow): UserSummary {
  return {
    ...row,
    disabled: Number(row.disabled) !== 0,
    emailVerified: Number(row.emailVerified) !== 0,
    createdAt: isoZ(row.createdAt),
    updatedAt: isoZ(row.updatedAt),
    roles: row.roles === null ? [] : row.roles.split(' ').sort()
  }
}

export function toSession (row: SessionRow): Session {
  return {
    ...row,
    createdAt: new Date(row.createdAt),
    lastUsedAt: new Date(row.lastUsedAt),
    expiresAt: new Date(row.expiresAt),
    revokedAt: row.revokedAt === null ? null : new Date(row.revokedAt)
  }
}

export function toUser (row: UserRow): User {
  return {
    ...row,
    disabled: Number(row.disabled) !== 0,
    emailVerified: Number(row.emailVerified) !== 0,
    passwordVersion: Number(row.passwordVersion),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
    roles: row.roles === null ? [] : row.roles.split(' ').sort()
  }
}
