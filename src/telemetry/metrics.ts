// The service's Prometheus metrics (prom-client), on a registry of their own: Node's and the
// process's defaults and the authd_* counters and gauges that ../shared/DESIGN.md names
// (docs/operating.md says what each means), then the HTTP histogram, which is
// ./response-times.ts's. Every label value comes from a fixed list here or from the route
// table: never a user's name, id, address or token.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { LOGIN_RESULTS, REFRESH_RESULTS, type LoginResult, type RefreshResult } from '../auth/outcomes.js'
import type { DenyEntry, PoolStats } from '../store/index.js'
import { createResponseTimes } from './response-times.js'

/** What a revocation refused, by the kind of denylist entry it wrote. */
const REVOKED: Record<DenyEntry['kind'], string> = {
  jti: 'access_token',
  sid: 'session',
  sid_before: 'session_tokens',
  client_before: 'client_tokens',
  kid: 'signing_key'
}

/** The gauges read at each scrape, from the parts of the service that know them. */
export interface Sources {
  denylistEntries: () => number
  passwordQueueDepth: () => number
  mailOutboxPending: () => Promise<number>
  /** Undefined when the key's age is not known (HS256, JWT_KEYS_FILE). */
  signingKeyAge: () => number | undefined
  databasePool: () => PoolStats
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export function createMetrics ({ failed }: { failed: (err: unknown, metric: string) => void }) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]

  const http = createResponseTimes({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status code',
    buckets: SECONDS
  })
  const counter = (name: string, help: string, label: string) => new Counter({ name, help, labelNames: [label], registers })
  const logins = counter('authd_logins_total', 'Login steps (password, second factor, passkey) by how they ended: success is a session opened', 'result')
  const refreshes = counter('authd_refresh_total', 'Refresh tokens presented, by what became of them', 'result')
  const revocations = counter('authd_revocations_total', 'Denylist entries written by this instance, by what they refuse', 'kind')
  const passwordWait = new Histogram({
    name: 'authd_password_wait_seconds',
    help: 'Time a password hash or check waited for a bcrypt worker',
    buckets: SECONDS,
    registers
  })
  // Every result at zero from the start: a rule on increase() sees the first one.
  for (const result of LOGIN_RESULTS) logins.inc({ result }, 0)
  for (const result of REFRESH_RESULTS) refreshes.inc({ result }, 0)
  for (const kind of Object.values(REVOKED)) revocations.inc({ kind }, 0)

  // Each gauge exists once a part of the service gives its source (the pool only on
  // PostgreSQL...). One whose source fails (the database down) keeps its last value, and the
  // scrape still answers: the other metrics matter most then.
  const gauge = (name: string, help: string, read: (set: (value: number, labels?: Record<string, string>) => void) => unknown, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect () {
        try {
          await read((value, labels) => labels === undefined ? this.set(value) : this.set(labels, value))
        } catch (err) {
          failed(err, name)
        }
      }
    })
  const gauges: { [K in keyof Sources]: (read: Sources[K]) => void } = {
    denylistEntries: read => gauge('authd_denylist_entries', 'Entries in the in-memory denylist', set => set(read())),
    passwordQueueDepth: read => gauge('authd_password_queue_depth', 'Password checks waiting for a bcrypt worker', set => set(read())),
    mailOutboxPending: read => gauge('authd_mail_outbox_pending', 'Mails waiting to be sent, by any instance', async set => set(await read())),
    signingKeyAge: read => gauge('authd_signing_key_age_seconds', 'How long the key that signs access tokens has signed', set => {
      const age = read()
      if (age !== undefined) set(age)
    }),
    databasePool: read => {
      gauge('authd_db_pool_connections', 'PostgreSQL connections of this instance, by state', set => {
        const pool = read()
        set(pool.idle, { state: 'idle' })
        set(pool.total - pool.idle, { state: 'busy' })
      }, ['state'])
      gauge('authd_db_pool_waiting', 'Requests of this instance waiting for a PostgreSQL connection', set => set(read().waiting))
    }
  }

  return {
    contentType: registry.contentType,
    /** The exposition text. */
    text: async () => `${await registry.metrics()}\n${http.text()}`,
    request: http.observe,
    login: (result: LoginResult) => { logins.inc({ result }) },
    refresh: (result: RefreshResult) => { refreshes.inc({ result }) },
    revoked: (entries: readonly DenyEntry[]) => { for (const entry of entries) revocations.inc({ kind: REVOKED[entry.kind] }) },
    passwordWait: (seconds: number) => { passwordWait.observe(seconds) },
    /** Adds the gauge that `read` tells, read at each scrape. */
    source: <K extends keyof Sources>(name: K, read: Sources[K]) => { gauges[name](read) }
  }
}

export type Metrics = ReturnType<typeof createMetrics>
