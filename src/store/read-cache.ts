// The reads of signed-in requests (a user with one of its sessions, a user's live sessions, a
// page of users), kept in memory. Each costs a read transaction on the database, more than the
// rest of such a request. What this process writes is forgotten as it commits (the store tells,
// by user); what other processes write, when the engine's change feed tells (./index.ts). While
// the feed cannot hear, nothing is kept.
import type { Session, SessionSummary, User, UserSummary } from './records.js'
import type { UserFilter } from './users.js'

export interface SignedIn { user: User | null, session: Session | null }

/** What changed elsewhere: a user (and so the pages), a user's sessions, or anything at all. */
export type Change =
  | { kind: 'user' | 'sessions', id: string }
  /** Forget everything; keep entries from now on only if `hearing` (the feed will tell of changes). */
  | { kind: 'reset', hearing: boolean }

interface UserEntry {
  signedIn: Map<string, SignedIn>
  /** A user's live sessions, good until the first of them expires. */
  live?: { list: SessionSummary[], until: number }
}

export interface ReadCacheOptions {
  /** Users whose reads are kept; beyond it, the first kept go first. */
  maxUsers?: number
  /** Pages of the user listing kept. */
  maxPages?: number
}

export function createReadCache ({ maxUsers = 10_000, maxPages = 200 }: ReadCacheOptions = {}) {
  const users = new Map<string, UserEntry>()
  const pages = new Map<string, UserSummary[]>()
  // Raised by every forgetting: a read that began before one may hold what it forgot, and is
  // then returned without being kept.
  let generation = 0
  let hearing = false

  function entry (userId: string): UserEntry {
    let found = users.get(userId)
    if (found === undefined) {
      if (users.size >= maxUsers) users.delete(users.keys().next().value as string)
      users.set(userId, found = { signedIn: new Map() })
    }
    return found
  }

  async function through<T> (kept: T | undefined, load: () => Promise<T>, keep: (value: T) => void): Promise<T> {
    if (kept !== undefined) return kept
    const began = generation
    const value = await load()
    if (hearing && began === generation) keep(value)
    return value
  }

  const freeze = <T extends object | null>(value: T): T => {
    if (value !== null) {
      for (const field of Object.values(value)) if (Array.isArray(field)) Object.freeze(field)
      Object.freeze(value)
    }
    return value
  }

  function forgetUser (id: string) {
    generation++
    users.delete(id)
    pages.clear()
  }

  function forgetSessions (userId: string) {
    generation++
    users.delete(userId)
  }

  function forgetAll () {
    generation++
    users.clear()
    pages.clear()
  }

  return {
    signedIn: (userId: string, sessionId: string, load: () => Promise<SignedIn>): Promise<SignedIn> =>
      through(users.get(userId)?.signedIn.get(sessionId), load, value => {
        freeze(value.user)
        freeze(value.session)
        entry(userId).signedIn.set(sessionId, Object.freeze(value))
      }),

    liveSessions (userId: string, now: number, load: () => Promise<SessionSummary[]>): Promise<SessionSummary[]> {
      const live = users.get(userId)?.live
      return through(live !== undefined && now < live.until ? live.list : undefined, load, list => {
        let until = Infinity
        for (const session of list) until = Math.min(until, Date.parse(freeze(session).expiresAt))
        entry(userId).live = { list: Object.freeze(list) as SessionSummary[], until }
      })
    },

    listUsers (filter: UserFilter, load: () => Promise<UserSummary[]>): Promise<UserSummary[]> {
      const key = JSON.stringify(filter)
      return through(pages.get(key), load, page => {
        if (pages.size >= maxPages) pages.delete(pages.keys().next().value as string)
        page.forEach(freeze)
        pages.set(key, Object.freeze(page) as UserSummary[])
      })
    },

    /** A user, or its roles, changed: its reads and every page go. */
    forgetUser,
    /** Sessions of the user opened, ended or refreshed: its reads go. */
    forgetSessions,
    forgetAll,

    /** Applies a change the feed reported. */
    changed (change: Change) {
      if (change.kind === 'reset') {
        forgetAll()
        hearing = change.hearing
      } else if (change.kind === 'user') {
        forgetUser(change.id)
      } else {
        forgetSessions(change.id)
      }
    }
  }
}

export type ReadCache = ReturnType<typeof createReadCache>
