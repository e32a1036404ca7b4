// The per-account password limits' rows, for instances that share a database: the attempts that
// took a slot of a window, and the addresses each account signed in from. Through Prisma; the
// taking of a slot, a count and an insert that must be one step, is each engine's own
// (./sqlite.ts, ./postgres.ts).
import type { Db } from './database.js'

export function createAttempts (db: Db) {
  return {
    /** Gives a slot back, as if never taken. */
    async release (id: string): Promise<void> {
      await db.passwordAttempt.deleteMany({ where: { id } })
    },

    async rememberAddress (accountId: string, ip: string, at: Date): Promise<void> {
      await db.knownAddress.upsert({ where: { accountId_ip: { accountId, ip } }, create: { accountId, ip, at }, update: { at } })
    },

    /** Whether the account signed in from `ip` after `since`. */
    async addressKnown (accountId: string, ip: string, since: Date): Promise<boolean> {
      const row = await db.knownAddress.findUnique({ where: { accountId_ip: { accountId, ip } }, select: { at: true } })
      return row !== null && row.at > since
    },

    /** Deletes the attempts made before `attemptsBefore` and the addresses last seen before `addressesBefore`. */
    async purge (attemptsBefore: Date, addressesBefore: Date): Promise<number> {
      const attempts = await db.passwordAttempt.deleteMany({ where: { at: { lte: attemptsBefore } } })
      const addresses = await db.knownAddress.deleteMany({ where: { at: { lte: addressesBefore } } })
      return attempts.count + addresses.count
    }
  }
}
