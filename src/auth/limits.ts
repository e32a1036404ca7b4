// Rate limits for what @fastify/rate-limit cannot do: take a slot before the work it guards and
// give it back after (a password comparison that turns out right), or count per key that the
// request does not carry (an account, a session). Plain functions, time passed in, so that the
// policy can be tested without waiting an hour. In memory, each process counting for itself;
// or, for the sliding window, in the store, shared by every instance on its database.
import type { Store } from '../store/index.js'

/** The keys a limiter remembers at most; past that the oldest go first. */
const MAX_KEYS = 100_000

/** Sets the key as the newest, and drops the oldest past MAX_KEYS. */
export function bounded<V> (map: Map<string, V>, key: string, value: V): V {
  map.delete(key)
  map.set(key, value)
  if (map.size > MAX_KEYS) map.delete(map.keys().next().value as string)
  return value
}

export type Slot = { ok: true, release (): void | Promise<void> } | { ok: false, retryAfter: number }

/**
 * At most `limit` slots taken in any `windowMs`, per key: a log of when each slot was taken,
 * never longer than `limit`. A slot is taken at once, before anything is awaited, so that
 * concurrent requests cannot all pass one check; release() gives it back as if never taken.
 */
export function createSlidingWindow ({ limit, windowMs }: { limit: number, windowMs: number }) {
  const logs = new Map<string, number[]>()

  function live (key: string, now: number): number[] {
    const log = logs.get(key) ?? []
    let expired = 0
    while (expired < log.length && log[expired] <= now - windowMs) expired++
    if (expired > 0) log.splice(0, expired)
    return log
  }

  return {
    take (key: string, now = Date.now()): Slot {
      const log = live(key, now)
      if (log.length >= limit) return { ok: false, retryAfter: Math.max(1, Math.ceil((log[0] + windowMs - now) / 1000)) }
      bounded(logs, key, log).push(now)
      let released = false
      return {
        ok: true,
        release () {
          if (released) return
          released = true
          const at = log.lastIndexOf(now)
          if (at !== -1) log.splice(at, 1)
          if (log.length === 0 && logs.get(key) === log) logs.delete(key)
        }
      }
    }
  }
}

/**
 * A token bucket per key: `limit` at once, refilled at `limit` per `windowMs`. Constant memory
 * per key, whatever the limit, for counts that may be set high (refresh rotations).
 */
export function createTokenBucket ({ limit, windowMs }: { limit: number, windowMs: number }) {
  const buckets = new Map<string, { tokens: number, at: number }>()
  const perMs = limit / windowMs
  return {
    /** Takes one token; the seconds until one is there when none is left. */
    take (key: string, now = Date.now()): { ok: true } | { ok: false, retryAfter: number } {
      const bucket = buckets.get(key)
      const tokens = bucket === undefined ? limit : Math.min(limit, bucket.tokens + (now - bucket.at) * perMs)
      if (tokens < 1) {
        bucket!.tokens = tokens
        bucket!.at = now
        return { ok: false, retryAfter: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) }
      }
      bounded(buckets, key, { tokens: tokens - 1, at: now })
      return { ok: true }
    }
  }
}

/**
 * createSlidingWindow's policy, counted in the store's rows instead of this process's memory:
 * every instance on the database takes from the same window. The store counts and inserts in
 * one step, so that concurrent attempts, on any instance, cannot all pass one check.
 */
export function createSharedWindow (store: Pick<Store, 'attempts'>, { limit, windowMs }: { limit: number, windowMs: number }) {
  return {
    async take (key: string, now = Date.now()): Promise<Slot> {
      const taken = await store.attempts.take(key, limit, now - windowMs, now)
      if ('oldest' in taken) return { ok: false, retryAfter: Math.max(1, Math.ceil((taken.oldest.getTime() + windowMs - now) / 1000)) }
      let released = false
      return {
        ok: true,
        async release () {
          if (released) return
          released = true
          await store.attempts.release(taken.id)
        }
      }
    }
  }
}
