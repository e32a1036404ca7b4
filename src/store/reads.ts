// The reads on the request paths (the signed-in user, a session, a user's sessions), as prepared
// statements on Prisma's own connection. Through Prisma each read cost far more than the rest of
// the request; the statements are the same SQL without its per-query work. Like Prisma's own
// queries, they wait for an open transaction to end, so they never see uncommitted rows.
import type { Database } from 'better-sqlite3'
import { isoText, perConnection, type Connection } from '../db/adapter.js'
import { toSession, toUser, type Session, type SessionRow, type User, type UserRow } from './rows.js'

const statementsFor = perConnection((db: Database) => ({
  user: db.prepare('SELECT * FROM User WHERE id = ?'),
  roles: db.prepare('SELECT role FROM UserRole WHERE userId = ? ORDER BY role').pluck(),
  session: db.prepare('SELECT * FROM Session WHERE id = ?'),
  liveSessions: db.prepare('SELECT * FROM Session WHERE userId = ? AND revokedAt IS NULL AND expiresAt > ? ORDER BY lastUsedAt DESC')
}))

/** The user with its roles, or null; synchronous, for work already on the connection. */
export function readUser (db: Database, id: string): User | null {
  const q = statementsFor(db)
  const row = q.user.get(id) as UserRow | undefined
  return row === undefined ? null : toUser(row, q.roles.all(id) as string[])
}

/** The session, live or not, or null; synchronous, for work already on the connection. */
export function readSession (db: Database, id: string): Session | null {
  const row = statementsFor(db).session.get(id) as SessionRow | undefined
  return row === undefined ? null : toSession(row)
}

export function createReads (connection: Connection) {
  return {
    /** The user with its roles, or null. */
    user: (id: string): Promise<User | null> => connection.read(db => readUser(db, id)),
    /** The session, live or not, or null. */
    session: (id: string): Promise<Session | null> => connection.read(db => readSession(db, id)),
    /** The user's sessions that are neither revoked nor expired at `now`, most recently used first. */
    liveSessions: (userId: string, now: number): Promise<Session[]> => connection.read(db =>
      (statementsFor(db).liveSessions.all(userId, isoText(now)) as SessionRow[]).map(toSession))
  }
}

export type Reads = ReturnType<typeof createReads>
