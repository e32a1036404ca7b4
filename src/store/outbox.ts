// Mail waiting to be sent (src/auth/mailer.ts), through Prisma. Taking due messages for sending,
// which must be one step however many senders ask at once, is each engine's own
// (./sqlite.ts, ./postgres.ts).
import type { Db } from './database.js'

export function createOutbox (db: Db) {
  return {
    /** Adds a message; inside the transaction of the change it tells of. */
    async add (message: { id: string, kind: string, sealed: string, expiresAt: Date }): Promise<void> {
      // Due now, by this clock: the database's own default would be another format on SQLite.
      await db.mailMessage.create({ data: { ...message, nextAttemptAt: new Date() } })
    },

    /** The message is sent, or past saving: it goes. */
    async remove (id: string): Promise<void> {
      await db.mailMessage.deleteMany({ where: { id } })
    },

    /** The message could not be sent: another try at `next`, by any sender. */
    async retryAt (id: string, next: Date, error: string): Promise<void> {
      await db.mailMessage.updateMany({ where: { id }, data: { nextAttemptAt: next, lockedUntil: null, lastError: error.slice(0, 500) } })
    },

    /** How many messages wait to be sent (each is removed once sent or given up on). */
    pending: (): Promise<number> => db.mailMessage.count(),

    /** When the next message falls due (or its sender's hold ends), if any waits. */
    async nextDue (): Promise<Date | undefined> {
      const row = await db.mailMessage.findFirst({ orderBy: { nextAttemptAt: 'asc' }, select: { nextAttemptAt: true, lockedUntil: true } })
      if (row === null) return undefined
      return row.lockedUntil !== null && row.lockedUntil > row.nextAttemptAt ? row.lockedUntil : row.nextAttemptAt
    }
  }
}
