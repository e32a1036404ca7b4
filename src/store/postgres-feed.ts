// Word of denylist writes between instances on PostgreSQL: the transaction that adds rows sends a
// NOTIFY (delivered only if, and when, it commits); every instance LISTENs on a connection of its
// own and reads the new rows at once, instead of at its next periodic sync. A notification can
// still be missed (the connection drops): each (re)connection announces a change, so that the
// listeners read whatever they missed, and the periodic sync stays as the last resort.
import pg from 'pg'

export const DENYLIST_CHANNEL = 'authd_denylist'
export const NOTIFY_DENYLIST = `SELECT pg_notify('${DENYLIST_CHANNEL}', '')`

const RECONNECT_MS = { first: 100, max: 5000 }

export function createDenylistFeed (url: string, connectTimeoutMs: number) {
  const listeners = new Set<() => void>()
  let client: pg.Client | undefined
  let timer: NodeJS.Timeout | undefined
  let delay = RECONNECT_MS.first
  let closed = false

  const announce = () => { for (const listener of listeners) listener() }

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
      // A connection that drops soon after each success keeps backing off, not announcing (and
      // so syncing) ten times a second.
      if (Date.now() - connectedAt > RECONNECT_MS.max) delay = RECONNECT_MS.first
      reconnectLater()
    }
    own.on('notification', announce)
    // Either one means the connection is gone: a new one, later.
    own.on('error', lost)
    own.on('end', lost)
    try {
      await own.connect()
      await own.query(`LISTEN ${DENYLIST_CHANNEL}`)
      connectedAt = Date.now()
      // Whatever was written while no one listened.
      announce()
    } catch {
      await own.end().catch(() => {})
      lost()
    }
  }

  return {
    /** Calls `listener` after other instances add denylist rows; returns the unsubscribe. */
    watch (listener: () => void): () => void {
      listeners.add(listener)
      if (client === undefined && timer === undefined) void connect()
      return () => listeners.delete(listener)
    },

    async close () {
      closed = true
      clearTimeout(timer)
      await client?.end().catch(() => {})
    }
  }
}
