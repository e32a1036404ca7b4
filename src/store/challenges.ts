// The handles of two-step sign-ins and registrations (a login waiting for its second factor, a
// WebAuthn challenge), by the SHA-256 of the handle: used once, within their lifetime.
import type { Db } from './database.js'
import type { ChallengeKind, ChallengeRecord } from './records.js'

const live = (hash: string, kind: ChallengeKind, now: Date) => ({ hash, kind, usedAt: null, expiresAt: { gt: now } })
const select = { userId: true, data: true } as const

export function createChallenges (db: Db) {
  return {
    async create (challenge: { hash: string, kind: ChallengeKind, userId: string | null, data: Record<string, unknown>, expiresAt: Date }): Promise<void> {
      await db.challenge.create({ data: { ...challenge, data: JSON.stringify(challenge.data) } })
    },

    /** The challenge, if it is of this kind, unused and unexpired at `now`; else null. */
    async find (hash: string, kind: ChallengeKind, now: Date): Promise<ChallengeRecord | null> {
      const row = await db.challenge.findFirst({ where: live(hash, kind, now), select })
      return row === null ? null : { ...row, data: JSON.parse(row.data) as Record<string, unknown> }
    },

    /** Uses it up: of two that race, one gets true. */
    use: async (hash: string, kind: ChallengeKind, now: Date): Promise<boolean> =>
      (await db.challenge.updateMany({ where: live(hash, kind, now), data: { usedAt: now } })).count === 1,

    /** Counts a wrong answer; the `max`th uses the challenge up. */
    async fail (hash: string, max: number, now: Date): Promise<void> {
      const row = await db.challenge.update({ where: { hash }, data: { failures: { increment: 1 } }, select: { failures: true } })
      if (row.failures >= max) await db.challenge.updateMany({ where: { hash, usedAt: null }, data: { usedAt: now } })
    },

    /** Deletes those expired before `before`; returns how many. */
    purge: async (before: Date): Promise<number> => (await db.challenge.deleteMany({ where: { expiresAt: { lte: before } } })).count
  }
}
