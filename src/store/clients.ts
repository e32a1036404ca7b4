// Machine clients and the client assertions they have used. Few rows, read by id; the domain
// (src/auth/clients.ts) keeps what it reads for a moment.
import { Prisma } from '../generated/prisma/client.js'
import type { OAuthClient } from '../generated/prisma/client.js'
import type { Db } from './database.js'
import type { ClientAuthMethod, OAuthClientRecord } from './records.js'

function toRecord ({ scope, authMethod, jwks, ...row }: OAuthClient): OAuthClientRecord {
  return {
    ...row,
    scopes: scope.split(' ').filter(s => s !== ''),
    authMethod: authMethod as ClientAuthMethod,
    jwks: jwks === null ? null : JSON.parse(jwks) as OAuthClientRecord['jwks']
  }
}

/** The fields a registration sets, or a change may. */
export interface ClientFields {
  name: string
  scopes: string[]
  authMethod: ClientAuthMethod
  secretHash: string | null
  jwks: OAuthClientRecord['jwks']
}

const columns = ({ scopes, jwks, ...fields }: Partial<ClientFields>) => ({
  ...fields,
  ...(scopes !== undefined && { scope: scopes.join(' ') }),
  ...(jwks !== undefined && { jwks: jwks === null ? null : JSON.stringify(jwks) })
})

export function createClients (db: Db) {
  return {
    get: async (id: string): Promise<OAuthClientRecord | null> => {
      const row = await db.oAuthClient.findUnique({ where: { id } })
      return row === null ? null : toRecord(row)
    },

    /** Every client, oldest first. */
    all: async (): Promise<OAuthClientRecord[]> =>
      (await db.oAuthClient.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).map(toRecord),

    async create (id: string, fields: ClientFields): Promise<OAuthClientRecord> {
      const { scopes, jwks, ...rest } = fields
      return toRecord(await db.oAuthClient.create({ data: { id, ...rest, scope: scopes.join(' '), jwks: jwks === null ? null : JSON.stringify(jwks) } }))
    },

    /** The client after the change; null if there is no such client. */
    async update (id: string, change: Partial<ClientFields> & { disabled?: boolean }): Promise<OAuthClientRecord | null> {
      const { count } = await db.oAuthClient.updateMany({ where: { id }, data: columns(change) })
      return count === 0 ? null : toRecord(await db.oAuthClient.findUniqueOrThrow({ where: { id } }))
    },

    /** A new secret; the current one stays valid until `previousUntil` (now, for no grace). */
    async replaceSecret (id: string, secretHash: string, previousUntil: Date): Promise<OAuthClientRecord | null> {
      const client = await db.oAuthClient.findUnique({ where: { id } })
      if (client === null) return null
      return toRecord(await db.oAuthClient.update({
        where: { id },
        data: { secretHash, previousSecretHash: client.secretHash, previousSecretExpiresAt: previousUntil }
      }))
    },

    remove: async (id: string): Promise<boolean> =>
      (await db.oAuthClient.deleteMany({ where: { id } })).count === 1,

    /** Notes that the client authenticated at `at`. */
    async used (id: string, at: Date): Promise<void> {
      await db.oAuthClient.updateMany({ where: { id }, data: { lastUsedAt: at } })
    },

    /**
     * Records a client assertion's jti until it expires; false if it was recorded already (a
     * replay). The client's expired ones go first: the table holds only what can still be replayed.
     */
    async useAssertion (clientId: string, jti: string, expiresAt: Date, now: Date): Promise<boolean> {
      await db.usedAssertion.deleteMany({ where: { clientId, expiresAt: { lte: now } } })
      try {
        await db.usedAssertion.create({ data: { clientId, jti, expiresAt } })
        return true
      } catch (err) {
        if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return false
        throw err
      }
    }
  }
}
