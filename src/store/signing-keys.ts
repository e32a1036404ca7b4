// The keys that sign access tokens: few rows, read whole. Their life is the domain's
// (src/auth/key-schedule.ts); the store keeps them.
import type { Db } from './database.js'
import type { SigningKeyRecord } from './records.js'

const toRecord = (row: { kid: string, alg: string, publicJwk: string | null, sealed: string | null, createdAt: Date, activatesAt: Date, revokedAt: Date | null }): SigningKeyRecord =>
  ({ ...row, alg: row.alg as SigningKeyRecord['alg'], publicJwk: row.publicJwk === null ? null : JSON.parse(row.publicJwk) as SigningKeyRecord['publicJwk'] })

export function createSigningKeys (db: Db) {
  return {
    all: async (): Promise<SigningKeyRecord[]> => (await db.signingKey.findMany({ orderBy: { activatesAt: 'asc' } })).map(toRecord),

    async add (key: Omit<SigningKeyRecord, 'createdAt' | 'revokedAt'>): Promise<void> {
      await db.signingKey.create({ data: { ...key, publicJwk: key.publicJwk === null ? null : JSON.stringify(key.publicJwk) } })
    },

    /** Marks the key revoked; false if there is no such key, or it was already. */
    revoke: async (kid: string, at: Date): Promise<boolean> =>
      (await db.signingKey.updateMany({ where: { kid, revokedAt: null }, data: { revokedAt: at } })).count === 1,

    async remove (kids: string[]): Promise<void> {
      if (kids.length > 0) await db.signingKey.deleteMany({ where: { kid: { in: kids } } })
    }
  }
}
