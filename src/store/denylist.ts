// The denylist's rows. Other processes read them in the order they were written (./sqlite.ts).
import type { Db } from './database.js'
import type { DenyEntry } from './records.js'

export function createDenylist (db: Db) {
  return {
    async add (entries: DenyEntry[]): Promise<void> {
      for (const entry of entries) {
        const { kind, value } = entry
        const expiresAt = new Date(entry.expiresAt)
        if (kind === 'sid_before' || kind === 'client_before') {
          // A later cutoff replaces the earlier one, as a new row: other processes read by seq.
          await db.deniedToken.deleteMany({ where: { kind, value } })
          await db.deniedToken.create({ data: { kind, value, expiresAt, issuedBefore: new Date(entry.issuedBefore) } })
        } else {
          await db.deniedToken.upsert({ where: { kind_value: { kind, value } }, create: { kind, value, expiresAt }, update: {} })
        }
      }
    }
  }
}
