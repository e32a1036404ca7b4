// Word of writes between instances on PostgreSQL, on a connection of each instance's own that
// LISTENs on two channels:
// - authd_denylist: the transaction that adds denylist rows sends a NOTIFY (delivered only if,
//   and when, it commits), and every instance reads the new rows at once instead of at its next
//   periodic sync;
// - authd_changes: triggers on "User", "UserRole" and "Session" name the user each change is of
//   (the migration read_cache_feed), whoever wrote it, and every instance's read cache forgets it.
// A notification can still be missed (the connection drops): each (re)connection is announced as
// `connected`, after which listeners assume anything may have changed, and each loss as `lost`.
import pg from 'pg'
import type { Change } from './read-cache.js'

export const DENYLIST_CHANNEL = 'authd_denylist'
export const CHANGES_CHANNEL = 'authd_changes'
export const NOTIFY_DENYLIST = `SELECT pg_notify('${DENYLIST_CHANNEL}', '')`
const CHANNELS = [DENYLIST_CHANNEL, CHANGES_CHANNEL] as const
type Channel = typeof CHANNELS[number]

export type FeedEvent = { payload: string } | 'connected' | 'lost'

const RECONNECT_MS = { first: 100, max: 5000 }

export function createFeed (url: string, connectTimeoutMs: number) {
  const listeners = new Map<Channel, Set<(event: FeedEvent) => void>>(CHANNELS.map(channel => [channel, new Set()]))
  let client: pg.Client | undefined
  let timer: NodeJS.Timeout | undefined
  let delay = RECONNECT_MS.first
  let closed = false
  // Between a LISTEN that succeeded and the loss of its connection.
  let listening = false

  const announce = (event: FeedEvent, channels: readonly Channel[] = CHANNELS) => {
    for (const channel of channels) for (const listener of listeners.get(channel) as Set<(event: FeedEvent) => void>) listener(event)
  }

  function reconnectLater () {
    if (closed || timer !== undefined) return
    timer = setTimeout(() => { timer = undefined; void connect() }, delay)
    timer.unref()
    delay = Math.min(delay * 2, RECONNECT_MS.max)
  }

  async function connect () {
    if (closed) return
    // TCP keepalive: a connection that died without a word (a failover, a dropped NAT entry)
    // is noticed, rather than listened on in silence.
    const own = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true, application_name: 'authd-listen' })
    client = own
    let connectedAt = Infinity
    const lost = () => {
      if (client !== own) return
      client = undefined
      if (listening) {
        listening = false
        announce('lost')
      }
      // A connection that drops soon after each success keeps backing off, not announcing (and
      // so syncing) ten times a second.
      if (Date.now() - connectedAt > RECONNECT_MS.max) delay = RECONNECT_MS.first
      reconnectLater()
    }
    own.on('notification', ({ channel, payload }) => announce({ payload: payload ?? '' }, [channel as Channel]))
    // Either one means the connection is gone: a new one, later.
    own.on('error', lost)
    own.on('end', lost)
    try {
      await own.connect()
      await own.query(CHANNELS.map(channel => `LISTEN ${channel}`).join('; '))
      connectedAt = Date.now()
      listening = true
      // Whatever was written while no one listened.
      announce('connected')
    } catch {
      await own.end().catch(() => {})
      lost()
    }
  }

  return {
    /** Calls `listener` with each notification on `channel`, and on each connection and loss; returns the unsubscribe. */
    watch (channel: Channel, listener: (event: FeedEvent) => void): () => void {
      const set = listeners.get(channel) as Set<(event: FeedEvent) => void>
      set.add(listener)
      // One that joins a connection already listening hears `connected` too; one that joins
      // while it connects hears it when it does.
      if (listening) listener('connected')
      else if (client === undefined && timer === undefined) void connect()
      return () => { set.delete(listener) }
    },

    async close () {
      closed = true
      clearTimeout(timer)
      await client?.end().catch(() => {})
    }
  }
}

/** An event of authd_changes as the read cache takes it; a payload is `u:<user id>` or `s:<user id>`. */
export function toChange (event: FeedEvent): Change {
  if (event === 'connected') return { kind: 'reset', hearing: true }
  if (event === 'lost') return { kind: 'reset', hearing: false }
  const id = event.payload.slice(2)
  if (event.payload.startsWith('u:')) return { kind: 'user', id }
  if (event.payload.startsWith('s:')) return { kind: 'sessions', id }
  // (not one of ours: forget everything rather than guess)
  return { kind: 'reset', hearing: true }
}
