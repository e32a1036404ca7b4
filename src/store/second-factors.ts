// A user's second factors, through Prisma: the TOTP authenticator, the recovery codes that stand
// in for it, and the passkeys (src/auth/second-factors.ts, src/auth/passkeys.ts). Each use that
// must happen once (a TOTP step, a recovery code, a passkey's counter) is a conditional update:
// of two requests that race, one wins.
import type { Db } from './database.js'
import type { PasskeyRecord, TotpRecord } from './records.js'

const passkeySelect = { id: true, userId: true, name: true, publicKey: true, counter: true, transports: true, deviceType: true, backedUp: true, createdAt: true, lastUsedAt: true } as const

function toPasskey (row: Omit<PasskeyRecord, 'transports'> & { transports: string }): PasskeyRecord {
  return { ...row, transports: row.transports === '' ? [] : row.transports.split(' ') }
}

export function createSecondFactors (db: Db) {
  return {
    totp: {
      get: (userId: string): Promise<TotpRecord | null> =>
        db.totpFactor.findUnique({ where: { userId }, select: { sealed: true, confirmedAt: true, lastStep: true } }),

      /** Starts an enrolment with this (sealed) secret, replacing one not yet confirmed; false if one is confirmed. */
      async begin (userId: string, sealed: string): Promise<boolean> {
        const { count } = await db.totpFactor.deleteMany({ where: { userId, confirmedAt: null } })
        if (count === 0 && await db.totpFactor.findUnique({ where: { userId }, select: { userId: true } }) !== null) return false
        await db.totpFactor.create({ data: { userId, sealed } })
        return true
      },

      /** Turns on the enrolment in progress, its first code's step used; false if there was none. */
      confirm: async (userId: string, step: number, at: Date): Promise<boolean> =>
        (await db.totpFactor.updateMany({ where: { userId, confirmedAt: null }, data: { confirmedAt: at, lastStep: step } })).count === 1,

      /** Records a code of `step` as used, if no code of it or of a later step was. */
      use: async (userId: string, step: number): Promise<boolean> =>
        (await db.totpFactor.updateMany({ where: { userId, confirmedAt: { not: null }, lastStep: { lt: step } }, data: { lastStep: step } })).count === 1,

      /** Whether there was one, confirmed or not. */
      remove: async (userId: string): Promise<boolean> =>
        (await db.totpFactor.deleteMany({ where: { userId } })).count > 0
    },

    recoveryCodes: {
      /** The user's codes become these (by hash): the old set stops working. */
      async replace (userId: string, hashes: string[]): Promise<void> {
        await db.recoveryCode.deleteMany({ where: { userId } })
        await db.recoveryCode.createMany({ data: hashes.map(hash => ({ hash, userId })) })
      },

      /** Uses the user's unused code with this hash; false if there is none. */
      use: async (userId: string, hash: string, at: Date): Promise<boolean> =>
        (await db.recoveryCode.updateMany({ where: { hash, userId, usedAt: null }, data: { usedAt: at } })).count === 1,

      left: (userId: string): Promise<number> => db.recoveryCode.count({ where: { userId, usedAt: null } }),

      remove: async (userId: string): Promise<void> => { await db.recoveryCode.deleteMany({ where: { userId } }) }
    },

    passkeys: {
      async add (passkey: Omit<PasskeyRecord, 'createdAt' | 'lastUsedAt'>): Promise<PasskeyRecord> {
        const row = await db.passkey.create({ data: { ...passkey, transports: passkey.transports.join(' ') }, select: passkeySelect })
        return toPasskey(row)
      },

      async get (id: string): Promise<PasskeyRecord | null> {
        const row = await db.passkey.findUnique({ where: { id }, select: passkeySelect })
        return row === null ? null : toPasskey(row)
      },

      /** The user's passkeys, oldest first. */
      list: async (userId: string): Promise<PasskeyRecord[]> =>
        (await db.passkey.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: passkeySelect })).map(toPasskey),

      count: (userId: string): Promise<number> => db.passkey.count({ where: { userId } }),

      /**
       * Records a sign-in with the passkey: its new counter, if the counter it was read with is
       * still its own (no other sign-in came between). A counter of 0 (authenticators that keep
       * none) stays 0.
       */
      use: async (id: string, seen: number, counter: number, at: Date): Promise<boolean> =>
        (await db.passkey.updateMany({ where: { id, counter: seen }, data: { counter, lastUsedAt: at } })).count === 1,

      /** Removes one of the user's passkeys; false if the user has none with this id. */
      remove: async (userId: string, id: string): Promise<boolean> =>
        (await db.passkey.deleteMany({ where: { id, userId } })).count === 1,

      removeAll: async (userId: string): Promise<number> => (await db.passkey.deleteMany({ where: { userId } })).count
    }
  }
}
