// Rows of SQLite as the raw statements read them, and the records they stand for. Prisma writes
// dates as ISO text (the adapter's timestampFormat 'iso8601', pinned in plugins/external/prisma.ts)
// and integers come back as BigInt (the adapter sets safe integers): a raw read must turn them
// into what Prisma's own reads would have returned.
import type { Session, User as PrismaUser } from '../generated/prisma/client.js'

/** A user with the roles it holds, sorted. */
export type User = PrismaUser & { roles: string[] }
export type { Session }

export interface SessionRow extends Omit<Session, 'createdAt' | 'lastUsedAt' | 'expiresAt' | 'revokedAt'> {
  createdAt: string
  lastUsedAt: string
  expiresAt: string
  revokedAt: string | null
}

export interface UserRow extends Omit<User, 'disabled' | 'passwordVersion' | 'createdAt' | 'updatedAt' | 'roles'> {
  disabled: bigint | number
  passwordVersion: bigint | number
  createdAt: string
  updatedAt: string
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

export function toUser (row: UserRow, roles: string[]): User {
  return {
    ...row,
    disabled: Number(row.disabled) !== 0,
    passwordVersion: Number(row.passwordVersion),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
    roles
  }
}
