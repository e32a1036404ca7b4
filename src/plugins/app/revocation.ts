// The denylist: revoked access-token ids (jti) and revoked sessions (sid). The database is the
// truth; every authenticated request is checked against an in-memory copy, which this process
// updates on each of its own writes and refreshes every second with the rows other processes
// added. Entries live until the tokens they cover have expired, then they are purged.
import fp from 'fastify-plugin'
import type { Prisma } from '../../generated/prisma/client.js'

declare module 'fastify' {
  interface FastifyInstance {
    revocation: {
      /** The hot-path check: two Map lookups. */
      isRevoked (jti: string, sid: string): boolean
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

export interface DenyEntry {
  kind: 'jti' | 'sid'
  value: string
  expiresAt: Date
}

const SYNC_INTERVAL_MS = 1000
const PURGE_INTERVAL_MS = 10 * 60 * 1000

export default fp(async function revocation (app) {
  const { prisma, config } = app
  const denied = { jti: new Map<string, number>(), sid: new Map<string, number>() }
  let cursor = 0

  async function record (tx: Prisma.TransactionClient, entries: DenyEntry[]) {
    for (const { kind, value, expiresAt } of entries) {
      await tx.deniedToken.upsert({ where: { kind_value: { kind, value } }, create: { kind, value, expiresAt }, update: {} })
    }
  }

  function remember (entries: DenyEntry[]) {
    for (const { kind, value, expiresAt } of entries) denied[kind].set(value, expiresAt.getTime())
  }

  async function sync () {
    const rows = await prisma.deniedToken.findMany({ where: { seq: { gt: cursor } }, orderBy: { seq: 'asc' } })
    for (const row of rows) {
      if (row.kind === 'jti' || row.kind === 'sid') denied[row.kind].set(row.value, row.expiresAt.getTime())
      cursor = row.seq
    }
  }

  async function purge () {
    const now = new Date()
    for (const map of Object.values(denied)) {
      for (const [value, expiresAt] of map) if (expiresAt <= now.getTime()) map.delete(value)
    }
    // A revoked session's row goes once no access token naming it can still be valid; its
    // refresh tokens go with it (cascade), refused as unknown from then on, as they were before.
    const accessTokensGone = new Date(now.getTime() - config.ACCESS_TOKEN_TTL * 1000)
    const [entries, tokens, sessions] = await prisma.$transaction([
      prisma.deniedToken.deleteMany({ where: { expiresAt: { lte: now } } }),
      prisma.refreshToken.deleteMany({ where: { expiresAt: { lte: now } } }),
      prisma.session.deleteMany({ where: { OR: [{ expiresAt: { lte: accessTokensGone } }, { revokedAt: { lte: accessTokensGone } }] } })
    ])
    return entries.count + tokens.count + sessions.count
  }

  await purge()
  await sync()

  // A failed round is logged and retried at the next tick; the copy stays as it was meanwhile.
  const every = (ms: number, task: () => Promise<unknown>, what: string) => {
    const timer = setInterval(() => { task().catch(err => app.log.error({ err }, `${what} failed`)) }, ms)
    timer.unref()
    return timer
  }
  const timers = [every(SYNC_INTERVAL_MS, sync, 'denylist sync'), every(PURGE_INTERVAL_MS, purge, 'purge')]
  app.addHook('onClose', async () => { for (const timer of timers) clearInterval(timer) })

  app.decorate('revocation', {
    isRevoked: (jti: string, sid: string) => denied.jti.has(jti) || denied.sid.has(sid),
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
