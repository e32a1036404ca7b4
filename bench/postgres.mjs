// The PostgreSQL rows of npm run bench (bench/run.mjs passes its helpers): the bearer path of a
// service on PostgreSQL against bare Fastify; refresh rotations against the same statements in
// raw pg, one transaction each; and how long a revocation on one instance takes to be refused by
// another. Needs a server: BENCH_POSTGRES_URL or TEST_POSTGRES_URL, with a user that may create
// databases; without one the rows are left out, and the table says so.
import { randomBytes, randomUUID, createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'

export const postgresServer = process.env.BENCH_POSTGRES_URL || process.env.TEST_POSTGRES_URL || undefined

const databaseUrl = (name) => { const url = new URL(postgresServer); url.pathname = `/${name}`; return url.toString() }

async function admin (sql) {
  const client = new pg.Client({ connectionString: postgresServer })
  await client.connect()
  try { await client.query(sql) } finally { await client.end() }
}

/** An empty database for this run; dropped by the returned function. */
async function scratchDatabase (name) {
  await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  await admin(`CREATE DATABASE "${name}"`)
  return { url: databaseUrl(name), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) }
}

/** Rotations per second with raw pg: the service's statements, one transaction each, `connections` at once, without the service. */
async function rawRotations (url, seconds, connections) {
  // The service's own tables, in a schema of their own beside the service's.
  const setup = new pg.Client({ connectionString: url })
  await setup.connect()
  await setup.query('CREATE SCHEMA raw; SET search_path TO raw')
  const dir = join(import.meta.dirname, '..', 'prisma/postgres/migrations')
  for (const name of readdirSync(dir, { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name).sort()) {
    await setup.query(readFileSync(join(dir, name, 'migration.sql'), 'utf8'))
  }
  const now = () => new Date().toISOString()
  const hash = (token) => createHash('sha256').update(token).digest('base64url')
  await setup.query(`INSERT INTO "User" (id, username, email, "passwordHash", "updatedAt") VALUES ('u', 'u', 'u@x', 'x', $1)`, [now()])
  await setup.query(`INSERT INTO "Session" (id, "userId", scope, "expiresAt") VALUES ('s', 'u', 'profile', $1)`, [now()])
  await setup.end()
  const pool = new pg.Pool({ connectionString: url, max: connections, options: '-c search_path=raw' })
  const end = Date.now() + seconds * 1000
  let n = 0
  await Promise.all(Array.from({ length: connections }, async () => {
    let token = randomBytes(32).toString('base64url')
    await pool.query('INSERT INTO "RefreshToken" (id, hash, "sessionId", "expiresAt") VALUES ($1, $2, $3, $4)', [randomUUID(), hash(token), 's', now()])
    while (Date.now() < end) {
      const next = randomBytes(32).toString('base64url')
      const c = await pool.connect()
      try {
        // The service's statements (src/store/postgres.ts), prepared once per connection as the
        // service's are: the token locked with its session and user, then the claim, the
        // successor and the session's touch in one statement.
        await c.query('BEGIN')
        const { rows: [row] } = await c.query({
          name: 'raw_read',
          text: `SELECT t.id, t."sessionId", t."expiresAt", t."usedAt", t.successor, to_jsonb(s) AS session,
            (SELECT to_jsonb(u) || jsonb_build_object('roles', (SELECT string_agg(role, ' ') FROM "UserRole" WHERE "userId" = u.id)) FROM "User" u WHERE u.id = s."userId") AS user
            FROM "RefreshToken" t JOIN "Session" s ON s.id = t."sessionId" WHERE t.hash = $1 FOR UPDATE OF t`,
          values: [hash(token)]
        })
        await c.query({
          name: 'raw_claim',
          text: `WITH claimed AS (UPDATE "RefreshToken" SET "usedAt" = $1, successor = $2 WHERE id = $3 AND "usedAt" IS NULL RETURNING "sessionId"),
              successor AS (INSERT INTO "RefreshToken" (id, hash, "sessionId", "createdAt", "expiresAt") SELECT $4, $5, "sessionId", $1, $6 FROM claimed)
              UPDATE "Session" SET "lastUsedAt" = $1 WHERE id IN (SELECT "sessionId" FROM claimed)`,
          values: [now(), 'sealed', row.id, randomUUID(), hash(next), now()]
        })
        await c.query('COMMIT')
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        c.release()
      }
      token = next
      n++
    }
  }))
  await pool.end()
  return { rps: n / seconds }
}

export async function postgresRows ({ ROOT, launch, cannon, combine, serviceEnv, time, series, row, PASSWORD, CONNECTIONS, QUICK }) {
  const { url, drop } = await scratchDatabase(`authd_bench_${process.pid}`)
  const failures = []
  try {
    const env = { ...serviceEnv, DATABASE_URL: url }
    const [a, b] = [await launch('pg-a', join(ROOT, 'dist/server.js'), env, '/ready'), await launch('pg-b', join(ROOT, 'dist/server.js'), env, '/ready')]
    const bare = await launch('pg-baseline', join(ROOT, 'bench/baseline-server.mjs'), { PATH: process.env.PATH }, '/')
    const post = (base, path, body, headers = {}) => fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
    await post(a.url, '/auth/register', { username: 'bench', email: 'bench@example.com', password: PASSWORD })
    const logins = await Promise.all(Array.from({ length: CONNECTIONS }, () => post(a.url, '/auth/token', { username: 'bench', password: PASSWORD }).then(res => res.json())))
    const bearerHeaders = { authorization: `Bearer ${logins[0].access_token}` }

    // bearer, against the bare app in alternating rounds.
    const d = time(8)
    await cannon(bare.url, { duration: time(2) })
    await cannon(`${a.url}/secure-data`, { duration: time(2), headers: bearerHeaders })
    const rounds = { baseline: [], bearer: [] }
    for (let i = 0; i < series; i++) {
      rounds.baseline.push(await cannon(bare.url, { duration: d / series }))
      rounds.bearer.push(await cannon(`${a.url}/secure-data`, { duration: d / series, headers: bearerHeaders }))
    }
    bare.stop()
    const [baseline, bearer] = [combine(rounds.baseline), combine(rounds.bearer)]
    row('pg bearer', bearer, baseline, bearer.rps / baseline.rps, '≥ 0.80×', bearer.rps / baseline.rps >= 0.8)

    // refresh: rotations through the service, against the same statements in raw pg.
    const tokens = logins.map(l => l.refresh_token)
    const rotations = await cannon(`${a.url}/auth/refresh`, {
      duration: d,
      requests: [{
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ refresh_token: tokens.shift() }) }),
        onResponse: (status, body) => { if (status === 200) tokens.push(JSON.parse(body).refresh_token) }
      }]
    })
    const raw = await rawRotations(url, time(5), CONNECTIONS)
    row('pg refresh', rotations, { ...raw, text: `${Math.round(raw.rps).toLocaleString('en')} rotations/s (raw pg)` }, rotations.rps / raw.rps, '≥ 0.5×', rotations.rps / raw.rps >= 0.5)

    // revocation: an access token revoked on A (RFC 7009), then asked of B until B refuses it.
    const count = QUICK ? 50 : 200
    // (A session of its own: the refresh row's tokens may have been rotated by requests in flight.)
    let refreshToken = (await post(a.url, '/auth/token', { username: 'bench', password: PASSWORD }).then(res => res.json())).refresh_token
    const delays = []
    for (let i = 0; i < count; i++) {
      const next = await post(a.url, '/auth/refresh', { refresh_token: refreshToken }).then(res => res.json())
      if (next.access_token === undefined) throw new Error(`refresh: ${JSON.stringify(next)}`)
      refreshToken = next.refresh_token
      const headers = { authorization: `Bearer ${next.access_token}` }
      if ((await fetch(`${b.url}/secure-data`, { headers })).status !== 200) throw new Error('B refused a live token')
      await post(a.url, '/auth/revoke', { token: next.access_token })
      const revokedAt = performance.now()
      while ((await fetch(`${b.url}/secure-data`, { headers })).status === 200) {
        if (performance.now() - revokedAt > 5000) throw new Error('B still accepts a revoked token after 5 s')
      }
      delays.push(performance.now() - revokedAt)
    }
    delays.sort((x, y) => x - y)
    const pct = (p) => delays[Math.min(delays.length - 1, Math.ceil(p / 100 * delays.length) - 1)]
    const [p50, p99] = [pct(50), pct(99)]
    row('pg revocation', { text: `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms on the other instance (${count} revocations)` },
      { text: 'goal: p99 ≤ 100 ms' }, p99 / 100, 'p99 ≤ 100 ms', p99 <= 100)
    failures.push(baseline, bearer, rotations)
    a.stop()
    b.stop()
  } finally {
    // The instances hold connections: the drop forces them closed.
    await drop()
  }
  return failures
}
