// The single-use tokens that mails carry, by the SHA-256 of the token (src/auth/mail-tokens.ts).
import type { Db } from './database.js'
import type { MailTokenPurpose, MailTokenRecord } from './records.js'

const select = { userId: true, purpose: true, email: true, expiresAt: true } as const

/** The token, if it is of one of these purposes, unused and unexpired at `now`. */
const live = (hash: string, purposes: MailTokenPurpose[], now: Date) =>
  ({ hash, purpose: { in: purposes }, usedAt: null, expiresAt: { gt: now } })

export function createMailTokens (db: Db) {
  return {
    /** Stores a token; the user's unused tokens of the same purpose stop working (a newer link supersedes). */
    async create (token: { hash: string, userId: string, purpose: MailTokenPurpose, email: string, expiresAt: Date }): Promise<void> {
      await db.mailToken.deleteMany({ where: { userId: token.userId, purpose: token.purpose, usedAt: null } })
      await db.mailToken.create({ data: token })
    },

    /** The token, if it is of one of these purposes, unused and unexpired at `now`; else null. */
    async find (hash: string, purposes: MailTokenPurpose[], now: Date): Promise<MailTokenRecord | null> {
      const row = await db.mailToken.findFirst({ where: live(hash, purposes, now), select })
      return row === null ? null : { ...row, purpose: row.purpose as MailTokenPurpose }
    },

    /** As find(), and uses the token up: a token is used once, whoever asks at the same time. */
    async use (hash: string, purposes: MailTokenPurpose[], now: Date): Promise<MailTokenRecord | null> {
      const { count } = await db.mailToken.updateMany({ where: live(hash, purposes, now), data: { usedAt: now } })
      if (count === 0) return null
      const row = await db.mailToken.findUniqueOrThrow({ where: { hash }, select })
      return { ...row, purpose: row.purpose as MailTokenPurpose }
    },

    /** Deletes the tokens expired before `before`; returns how many. */
    purge: async (before: Date): Promise<number> => (await db.mailToken.deleteMany({ where: { expiresAt: { lte: before } } })).count
  }
}
