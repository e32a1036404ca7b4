// The handles of two-step exchanges: a login that waits for its second factor (the `mfa_token`),
// a WebAuthn ceremony that waits for the browser's answer. 256 random bits, of which the store
// keeps the SHA-256 only; used once, within their lifetime.
import { createHash, randomBytes } from 'node:crypto'
import type { ChallengeKind, ChallengeRecord, Store, Transaction } from '../store/index.js'

const hash = (handle: string): string => createHash('sha256').update('authd challenge\0').update(handle).digest('base64url')

export function createChallenges ({ store, now = () => Date.now() }: { store: Store, now?: () => number }) {
  return {
    /** In `tx` (or the store): a new challenge; returns its handle. */
    async open (tx: Pick<Transaction, 'challenges'>, kind: ChallengeKind, userId: string | null, data: Record<string, unknown>, ttlSeconds: number): Promise<string> {
      const handle = randomBytes(32).toString('base64url')
      await tx.challenges.create({ hash: hash(handle), kind, userId, data, expiresAt: new Date(now() + ttlSeconds * 1000) })
      return handle
    },

    /** The challenge if it is live and of this kind, without using it. */
    find: (handle: string, kind: ChallengeKind): Promise<ChallengeRecord | null> =>
      store.challenges.find(hash(handle), kind, new Date(now())),

    /** In `tx`: uses it up; false if it was not live (used meanwhile, expired). */
    use: (tx: Pick<Transaction, 'challenges'>, handle: string, kind: ChallengeKind): Promise<boolean> =>
      tx.challenges.use(hash(handle), kind, new Date(now())),

    /** Counts a wrong answer; the `max`th uses the challenge up. */
    fail: (handle: string, max: number): Promise<void> => store.challenges.fail(hash(handle), max, new Date(now())),

    /** Deletes the challenges that expired an hour ago or more. */
    purge: (): Promise<number> => store.challenges.purge(new Date(now() - 3600_000))
  }
}

export type Challenges = ReturnType<typeof createChallenges>
