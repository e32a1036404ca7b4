// SQLite's rows as the raw statements read them, turned into the store's records. Prisma writes
// dates as ISO text (the adapter's timestampFormat 'iso8601', pinned in ./database.ts) and
// integers come back as BigInt (the adapter sets safe integers).
import type { Session, User } from './records.js'

/** A time as Prisma writes it, and as raw statements must write and compare it (./adapter.ts). */
export { isoText } from './adapter.js'

export interface SessionRow extends Omit<Session, 'createdAt' | 'lastUsedAt' | 'expiresAt' | 'revokedAt'> {
  createdAt: string
  lastUsedAt: string
  expiresAt: string
  revokedAt: string | null
}

/** A user's row with its roles, space-separated, in one column. */
export interface UserRow extends Omit<User, 'disabled' | 'passwordVersion' | 'createdAt' | 'updatedAt' | 'roles'> {
  disabled: bigint | number
  passwordVersion: bigint | number
  createdAt: string
  updatedAt: string
  roles: string | null
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
    passwordVersion: Number(row.passwordVersion),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
    roles: row.roles === null ? [] : row.roles.split(' ')
  }
}
