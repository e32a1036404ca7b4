// Revocation: the denylist of access tokens (by jti), of sessions (by sid), of a session's
// tokens older than a time (sid_before, after its user lost a role), of a machine client's
// tokens older than a time (client_before), and the ending of sessions
// that feeds it. The database is the truth; every authenticated request is checked against an
// in-memory copy, which this process updates on each of its own writes and refreshes with the
// rows other processes added (sync()). Entries live until the tokens they cover have expired.
import type { DenyEntry, SessionSelection, Store, Transaction } from '../store/index.js'

// Denylist entries outlive their tokens by this much, for clocks that disagree a little.
export const CLOCK_MARGIN_MS = 60_000

export interface RevocationOptions {
  store: Store
  /** Seconds an access token lives. */
  accessTokenTtl: number
  /** Told the entries each change of this process wrote, once committed. */
  revoked?: (entries: readonly DenyEntry[]) => void
  now?: () => number
}

export function createRevocation ({ store, accessTokenTtl, revoked = () => {}, now = () => Date.now() }: RevocationOptions) {
  const denied = { jti: new Map<string, number>(), sid: new Map<string, number>(), kid: new Map<string, number>() }
  const keyListeners = new Set<() => void>()
  const clientListeners = new Set<(clientId: string) => void>()
  // sid (or client id) → [issuedBefore, expiresAt], in milliseconds.
  const stale = new Map<string, [number, number]>()
  const staleClients = new Map<string, [number, number]>()
  let cursor = 0
  let running: Promise<void> | undefined
  let followUp: Promise<void> | undefined

  function remember (entries: DenyEntry[]) {
    let keys = false
    for (const entry of entries) {
      if (entry.kind === 'sid_before') stale.set(entry.value, [entry.issuedBefore, entry.expiresAt])
      else if (entry.kind === 'client_before') {
        staleClients.set(entry.value, [entry.issuedBefore, entry.expiresAt])
        for (const listener of clientListeners) listener(entry.value)
      } else denied[entry.kind].set(entry.value, entry.expiresAt)
      keys ||= entry.kind === 'kid'
    }
    if (keys) for (const listener of keyListeners) listener()
  }

  /**
   * Reads the rows other processes added since the last sync. Called while one runs, it runs
   * once more after it (that one may have read before the rows the caller knows of); callers
   * meanwhile share that one.
   */
  function sync (): Promise<void> {
    if (running === undefined) {
      running = (async () => {
        const next = await store.denylist.since(cursor)
        remember(next.entries)
        cursor = next.cursor
      })().finally(() => { running = undefined })
      return running
    }
    followUp ??= running.catch(() => {}).then(() => { followUp = undefined; return sync() })
    return followUp
  }

  // A new cutoff at `at`. Tokens issued after an earlier cutoff in the same second carry the
  // next second as iat (issuableFrom): the new cutoff must be past that second to cover them.
  const cutoffAfter = (earlier: [number, number] | undefined, at: number) =>
    earlier === undefined ? at : Math.max(at, Math.ceil(earlier[0] / 1000) * 1000 + 1)

  // Every access token naming a session was issued by `at`, so none outlives at + the TTL.
  const accessTokensGoneAt = (at: number) => at + accessTokenTtl * 1000 + CLOCK_MARGIN_MS

  return {
    /** The hot-path check: Map lookups. `iat` in seconds, as in the token; `kid` its key's. */
    isRevoked (jti: string, sid: string, iat: number, kid?: string): boolean {
      if (denied.jti.has(jti) || denied.sid.has(sid) || (kid !== undefined && denied.kid.has(kid))) return true
      const cutoff = stale.get(sid)
      return cutoff !== undefined && iat * 1000 < cutoff[0]
    },

    /** isRevoked for a machine client's token: its jti, its key, and the client's cutoff. */
    isClientRevoked (jti: string, clientId: string, iat: number, kid?: string): boolean {
      if (denied.jti.has(jti) || (kid !== undefined && denied.kid.has(kid))) return true
      const cutoff = staleClients.get(clientId)
      return cutoff !== undefined && iat * 1000 < cutoff[0]
    },

    /** The first second at which a new token of this session is not refused by sid_before. */
    issuableFrom (sid: string): number {
      const cutoff = stale.get(sid)
      return cutoff === undefined ? 0 : Math.ceil(cutoff[0] / 1000)
    },

    /** The same for a machine client and client_before. */
    issuableFromClient (clientId: string): number {
      const cutoff = staleClients.get(clientId)
      return cutoff === undefined ? 0 : Math.ceil(cutoff[0] / 1000)
    },

    /** The entry that refuses one access token until it expires. */
    accessToken: ({ jti, exp }: { jti: string, exp: number }): DenyEntry =>
      ({ kind: 'jti', value: jti, expiresAt: exp * 1000 + CLOCK_MARGIN_MS }),

    /**
     * Runs `work` in one store transaction, then refuses in this process, from the next request
     * on, the tokens covered by the denylist entries it wrote (`denied`): other processes read
     * them at their next sync.
     */
    async change<T> (work: (tx: Transaction) => Promise<{ result: T, denied: DenyEntry[] }>): Promise<T> {
      const { result, denied } = await store.transaction(work)
      remember(denied)
      revoked(denied)
      return result
    },

    /**
     * Inside `tx` (of change()): marks the selected live sessions revoked and denies their ids
     * until every access token naming them has expired.
     */
    async endSessions (tx: Transaction, selection: SessionSelection): Promise<DenyEntry[]> {
      const ids = await tx.sessions.unrevoked(selection)
      if (ids.length === 0) return []
      const at = now()
      await tx.sessions.revoke(ids, new Date(at))
      const expiresAt = accessTokensGoneAt(at)
      const entries = ids.map((value): DenyEntry => ({ kind: 'sid', value, expiresAt }))
      await tx.denylist.add(entries)
      return entries
    },

    /**
     * Inside `tx`: refuses the access tokens the user's sessions hold now, keeping the sessions,
     * so that the next refresh issues tokens with the scopes that remain. Same contract.
     */
    async expireTokens (tx: Transaction, userId: string): Promise<DenyEntry[]> {
      const at = now()
      const expiresAt = accessTokensGoneAt(at)
      const entries = (await tx.sessions.unrevoked({ userId })).map((value): DenyEntry =>
        ({ kind: 'sid_before', value, expiresAt, issuedBefore: cutoffAfter(stale.get(value), at) }))
      await tx.denylist.add(entries)
      return entries
    },

    /**
     * Inside `tx`: refuses every access token the client holds now (it was disabled, deleted, or
     * lost a scope). Same contract as endSessions.
     */
    async expireClientTokens (tx: Transaction, clientId: string): Promise<DenyEntry[]> {
      const at = now()
      const entries: DenyEntry[] = [{ kind: 'client_before', value: clientId, expiresAt: accessTokensGoneAt(at), issuedBefore: cutoffAfter(staleClients.get(clientId), at) }]
      await tx.denylist.add(entries)
      return entries
    },

    sync,

    /** How many entries the in-memory copy holds (each cutoff counts as one). */
    size: (): number => denied.jti.size + denied.sid.size + denied.kid.size + stale.size + staleClients.size,

    /** Calls `listener` with a client's id when its tokens were cut off, here or (once synced) elsewhere. */
    watchClients (listener: (clientId: string) => void): () => void {
      clientListeners.add(listener)
      return () => { clientListeners.delete(listener) }
    },

    /** Calls `listener` when a signing key was revoked, here or (once synced) elsewhere; returns the unsubscribe. */
    watchKeys (listener: () => void): () => void {
      keyListeners.add(listener)
      return () => { keyListeners.delete(listener) }
    },

    /** Forgets expired entries, and deletes expired rows; returns how many rows went. */
    async purge (): Promise<number> {
      const at = now()
      for (const map of Object.values(denied)) {
        for (const [value, expiresAt] of map) if (expiresAt <= at) map.delete(value)
      }
      for (const cutoffs of [stale, staleClients]) {
        for (const [value, [, expiresAt]] of cutoffs) if (expiresAt <= at) cutoffs.delete(value)
      }
      // A revoked session's row goes once no access token naming it can still be valid; its
      // refresh tokens go with it (cascade), refused as unknown from then on, as they were before.
      return await store.denylist.purge(at, at - accessTokenTtl * 1000)
    }
  }
}

export type Revocation = ReturnType<typeof createRevocation>
