// The denylist: revoked access-token ids (jti), revoked sessions (sid), and sessions whose older
// tokens carry scopes their user has lost (sid_before: tokens issued before a time). The
// database is the truth; every authenticated request is checked against an in-memory copy,
// which this process updates on each of its own writes and refreshes every second with the
// rows other processes added. Entries live until the tokens they cover have expired.
import fp from 'fastify-plugin'
import type { Prisma } from '../../generated/prisma/client.js'
import { isoText, perConnection } from '../../db/adapter.js'

declare module 'fastify' {
  interface FastifyInstance {
    revocation: {
      /** The hot-path check: Map lookups. `iat` in seconds, as in the token. */
      isRevoked (jti: string, sid: string, iat: number): boolean
      /** The first second at which a new token of this session is not refused by sid_before. */
      issuableFrom (sid: string): number
      /** Writes entries to the database, then to this process's copy. */
      deny (entries: DenyEntry[]): Promise<void>
      /** Writes entries inside the caller's transaction; call remember() once it committed. */
      record (tx: Prisma.TransactionClient, entries: DenyEntry[]): Promise<void>
      remember (entries: DenyEntry[]): void
      /** Reads the rows other processes added since the last sync. */
      sync (): Promise<void>
      /** Deletes expired denylist entries, refresh tokens and sessions; returns how many rows went. */
      purge (): Promise<number>
    }
  }
}

export type DenyEntry =
  | { kind: 'jti' | 'sid', value: string, expiresAt: Date }
  | { kind: 'sid_before', value: string, expiresAt: Date, issuedBefore: Date }

type DeniedRow = [seq: bigint, kind: string, value: string, expiresAt: string, issuedBefore: string | null]

const newEntries = perConnection(db => db.prepare('SELECT seq, kind, value, expiresAt, issuedBefore FROM DeniedToken WHERE seq > ? ORDER BY seq').raw())
// Raw statements doing what Prisma's deleteMany did: Prisma compiles each query on its first
// use, and these three took 80 ms of every start (the purge runs before the service is ready).
const purgeStatements = perConnection(db => ({
  entries: db.prepare('DELETE FROM DeniedToken WHERE expiresAt <= ?'),
  tokens: db.prepare('DELETE FROM RefreshToken WHERE expiresAt <= ?'),
  sessions: db.prepare('DELETE FROM Session WHERE expiresAt <= ? OR revokedAt <= ?')
}))

const SYNC_INTERVAL_MS = 1000
const PURGE_INTERVAL_MS = 10 * 60 * 1000

export default fp(async function revocation (app) {
  const { prisma, config } = app
  const denied = { jti: new Map<string, number>(), sid: new Map<string, number>() }
  // sid → [issuedBefore, expiresAt], in milliseconds.
  const stale = new Map<string, [number, number]>()
  let cursor = 0

  function add (kind: string, value: string, expiresAt: number, issuedBefore: number | null) {
    if (kind === 'sid_before') {
      if (issuedBefore !== null) stale.set(value, [issuedBefore, expiresAt])
    } else if (kind === 'jti' || kind === 'sid') {
      denied[kind].set(value, expiresAt)
    }
  }

  function remember (entries: DenyEntry[]) {
    for (const entry of entries) add(entry.kind, entry.value, entry.expiresAt.getTime(), entry.kind === 'sid_before' ? entry.issuedBefore.getTime() : null)
  }

  async function record (tx: Prisma.TransactionClient, entries: DenyEntry[]) {
    for (const entry of entries) {
      const { kind, value, expiresAt } = entry
      if (kind === 'sid_before') {
        // A later cutoff replaces the earlier one, as a new row: other processes read by seq.
        await tx.deniedToken.deleteMany({ where: { kind, value } })
        await tx.deniedToken.create({ data: { kind, value, expiresAt, issuedBefore: entry.issuedBefore } })
      } else {
        await tx.deniedToken.upsert({ where: { kind_value: { kind, value } }, create: { kind, value, expiresAt }, update: {} })
      }
    }
  }

  // Read with a raw statement: at start this is the whole denylist, and through Prisma a restart
  // with 100,000 entries took a second longer. Dates are ISO text and integers BigInt, as Prisma
  // stores them (the adapter sets safe integers).
  async function sync () {
    const rows = await app.sqlite.read(db => newEntries(db).all(cursor) as DeniedRow[])
    for (const [, kind, value, expiresAt, issuedBefore] of rows) {
      add(kind, value, Date.parse(expiresAt), issuedBefore === null ? null : Date.parse(issuedBefore))
    }
    if (rows.length > 0) cursor = Number(rows[rows.length - 1][0])
  }

  async function purge () {
    const now = Date.now()
    for (const map of Object.values(denied)) {
      for (const [value, expiresAt] of map) if (expiresAt <= now) map.delete(value)
    }
    for (const [value, [, expiresAt]] of stale) if (expiresAt <= now) stale.delete(value)
    // A revoked session's row goes once no access token naming it can still be valid; its
    // refresh tokens go with it (cascade), refused as unknown from then on, as they were before.
    const accessTokensGone = isoText(now - config.ACCESS_TOKEN_TTL * 1000)
    return await app.sqlite.immediate(db => {
      const q = purgeStatements(db)
      return q.entries.run(isoText(now)).changes + q.tokens.run(isoText(now)).changes + q.sessions.run(accessTokensGone, accessTokensGone).changes
    })
  }

  // A failed round is logged and retried at the next tick; the copy stays as it was meanwhile.
  const every = (ms: number, task: () => Promise<unknown>, what: string) => {
    const timer = setInterval(() => { task().catch(err => app.log.error({ err }, `${what} failed`)) }, ms)
    timer.unref()
    return timer
  }
  const timers: NodeJS.Timeout[] = []
  // From onReady, after plugins/external/prisma.ts has migrated the database (its hook is first).
  app.addHook('onReady', async () => {
    await purge()
    await sync()
    timers.push(every(SYNC_INTERVAL_MS, sync, 'denylist sync'), every(PURGE_INTERVAL_MS, purge, 'purge'))
  })
  app.addHook('onClose', async () => { for (const timer of timers) clearInterval(timer) })

  app.decorate('revocation', {
    isRevoked (jti: string, sid: string, iat: number) {
      if (denied.jti.has(jti) || denied.sid.has(sid)) return true
      const cutoff = stale.get(sid)
      return cutoff !== undefined && iat * 1000 < cutoff[0]
    },
    issuableFrom (sid: string) {
      const cutoff = stale.get(sid)
      return cutoff === undefined ? 0 : Math.ceil(cutoff[0] / 1000)
    },
    async deny (entries: DenyEntry[]) {
      await prisma.$transaction(tx => record(tx, entries))
      remember(entries)
    },
    record,
    remember,
    sync,
    purge
  })
}, { name: 'revocation', dependencies: ['prisma'] })
