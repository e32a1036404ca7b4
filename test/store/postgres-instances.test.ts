// Three instances of the service, as processes, on one PostgreSQL database: they behave as one
// service. What one revokes, the others refuse within a second (LISTEN/NOTIFY; the periodic sync
// is the fallback); one refresh token raced across them gets one answer; they migrate once.
// Runs with TEST_ENGINE=postgres (npm run test:postgres).
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import pg from 'pg'
import { onPostgres, PASSWORD, tempDir, testEnv, totpCode, totpStep } from '../helper.js'
import { MFA_OTP_GRANT } from '../../src/schemas/mfa.js'
import { postgresDatabase } from '../postgres.js'
import { listening, startServer } from '../process.js'

// Under the SQLite run, each test reports itself skipped.
const only = { skip: onPostgres ? false : 'PostgreSQL only: npm run test:postgres' }

async function instances (t: Test, count: number, env: Record<string, string> = {}) {
  const url = await postgresDatabase(tempDir(t))
  const bases = await Promise.all(Array.from({ length: count }, async () => {
    const dir = tempDir(t)
    return await listening(startServer(t, testEnv(dir, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url, LOG_LEVEL: 'info', ...env }), dir))
  }))
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  t.teardown(() => db.end())
  return { bases, db }
}

async function call (base: string, method: string, path: string, { body, token, ip }: { body?: unknown, token?: string, ip?: string } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
      // (the instances trust the proxy header in the test that sets it)
      ...(ip !== undefined && { 'x-forwarded-for': ip })
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? {} : JSON.parse(text) as Record<string, any> }
}

let n = 0
async function signUp (base: string) {
  const user = { username: `inst${process.pid}x${++n}`, email: `inst${process.pid}x${n}@example.com`, password: PASSWORD }
  const registered = await call(base, 'POST', '/auth/register', { body: user })
  if (registered.status !== 201) throw new Error(`register: ${registered.status}`)
  return { ...user, id: registered.body.id as string }
}
async function logIn (base: string, username: string) {
  const res = await call(base, 'POST', '/auth/token', { body: { username, password: PASSWORD } })
  if (res.status !== 200) throw new Error(`token: ${res.status}`)
  return res.body as { access_token: string, refresh_token: string }
}

/**
 * An admin, as one signs in: the admin scopes need a second factor, so it sets up TOTP with a
 * first session, then signs in with the next step's code (the mfa-otp grant).
 */
async function adminToken (base: string, db: pg.Client) {
  const admin = await signUp(base)
  await db.query('INSERT INTO "UserRole" ("userId", role) VALUES ($1, \'admin\')', [admin.id])
  const first = (await logIn(base, admin.username)).access_token
  const { secret } = (await call(base, 'POST', '/auth/mfa/totp', { token: first })).body
  const step = totpStep(Date.now())
  await call(base, 'POST', '/auth/mfa/totp/confirm', { token: first, body: { code: totpCode(secret, step) } })
  const pending = await call(base, 'POST', '/auth/token', { body: { username: admin.username, password: PASSWORD } })
  const res = await call(base, 'POST', '/auth/token', { body: { grant_type: MFA_OTP_GRANT, mfa_token: pending.body.mfa_token, otp: totpCode(secret, step + 1) } })
  if (res.status !== 200) throw new Error(`admin sign-in: ${res.status}`)
  return res.body.access_token as string
}

/** Milliseconds until every one of `bases` refuses the token (401); fails past 5 s. */
async function refusedEverywhere (bases: string[], token: string): Promise<number> {
  const start = performance.now()
  const pending = new Set(bases)
  while (pending.size > 0) {
    if (performance.now() - start > 5000) throw new Error(`still accepted by ${pending.size} instance(s) after 5 s`)
    for (const base of pending) {
      if ((await call(base, 'GET', '/auth/me', { token })).status === 401) pending.delete(base)
    }
    if (pending.size > 0) await sleep(5)
  }
  return performance.now() - start
}

t.test('what one instance revokes, the others refuse within a second', only, async t => {
  // No grace: presenting a used refresh token again is a reuse at once.
  const { bases: [a, b, c], db } = await instances(t, 3, { REFRESH_REUSE_GRACE: '0' })
  const asAdmin = await adminToken(a, db)

  const cases: Record<string, (tokens: { access_token: string, refresh_token: string }, user: { id: string, username: string }) => Promise<unknown>> = {
    logout: async tokens => await call(a, 'POST', '/auth/logout', { token: tokens.access_token }),
    'token revocation (RFC 7009)': async tokens => await call(a, 'POST', '/auth/revoke', { body: { token: tokens.refresh_token } }),
    'a password change (the other sessions end)': async (_, user) => {
      const own = await logIn(a, user.username)
      const res = await call(a, 'POST', '/auth/password', { token: own.access_token, body: { currentPassword: PASSWORD, newPassword: 'another long enough passphrase' } })
      if (res.status !== 204) throw new Error(`password: ${res.status}`)
    },
    'an admin disabling the account': async (_, user) => await call(a, 'PATCH', `/admin/users/${user.id}`, { token: asAdmin, body: { disabled: true } }),
    'a refresh token reused': async tokens => {
      if ((await call(a, 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } })).status !== 200) throw new Error('first use')
      await sleep(5)
      const reuse = await call(a, 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } })
      if (reuse.body.error !== 'invalid_grant') throw new Error(`reuse answered ${reuse.status}`)
    }
  }
  for (const [what, act] of Object.entries(cases)) {
    const user = await signUp(a)
    const tokens = await logIn(a, user.username)
    t.equal((await call(b, 'GET', '/auth/me', { token: tokens.access_token })).status, 200, `${what}: accepted before`)
    await act(tokens, user)
    const ms = await refusedEverywhere([b, c], tokens.access_token)
    t.ok(ms < 1000, `${what}: refused by the other two after ${ms.toFixed(0)} ms`)
  }
})

t.test('one refresh token raced across three instances: 20 identical answers, and a reuse after the grace window ends the session everywhere', only, async t => {
  const { bases, db } = await instances(t, 3, { REFRESH_REUSE_GRACE: '2' })
  const user = await signUp(bases[0])
  const tokens = await logIn(bases[1], user.username)
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    call(bases[i % 3], 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } })))
  t.same(replies.map(r => r.status), Array(20).fill(200))
  t.equal(new Set(replies.map(r => r.body.refresh_token)).size, 1, 'one successor, whoever answered')
  const { rows } = await db.query('SELECT count(*)::int AS n, count("usedAt")::int AS used FROM "RefreshToken"')
  t.same(rows[0], { n: 2, used: 1 }, 'one rotation written')

  await sleep(2100)
  const reuse = await call(bases[2], 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } })
  t.same([reuse.status, reuse.body.error], [400, 'invalid_grant'])
  const next = replies[0].body
  t.ok(await refusedEverywhere(bases, next.access_token) < 1000, 'the access token issued by the rotation is refused everywhere')
  for (const base of bases) {
    t.equal((await call(base, 'POST', '/auth/refresh', { body: { refresh_token: next.refresh_token } })).body.error, 'invalid_grant', 'and so is its refresh token')
  }
})

t.test('the per-account password limit is shared: failures spread over the instances count once', only, async t => {
  const { bases } = await instances(t, 3, { RATE_LIMIT_ACCOUNT: '5', TRUST_PROXY: 'true' })
  const owner = await signUp(bases[0])
  const OWNER_IP = '203.0.113.7'
  // The owner's API client signs in once, on the first instance: its address is known from then on.
  t.equal((await call(bases[0], 'POST', '/auth/token', { body: { username: owner.username, password: PASSWORD }, ip: OWNER_IP })).status, 200)

  // A guesser from elsewhere, spread over all three.
  for (let i = 0; i < 5; i++) {
    const res = await call(bases[i % 3], 'POST', '/auth/token', { body: { username: owner.username, password: `wrong guess ${i}` }, ip: `198.51.100.${i + 1}` })
    t.equal(res.body.error, 'invalid_grant', `guess ${i + 1} on instance ${i % 3} is checked`)
  }
  for (const [i, base] of bases.entries()) {
    const res = await call(base, 'POST', '/auth/token', { body: { username: owner.username, password: PASSWORD }, ip: '198.51.100.99' })
    t.same([res.status, res.body.error], [429, 'rate_limited'], `instance ${i}: the account's window for strangers is full, right password or not`)
  }
  // The owner's known address has a window of its own, on an instance it never used.
  t.equal((await call(bases[2], 'POST', '/auth/token', { body: { username: owner.username, password: PASSWORD }, ip: OWNER_IP })).status, 200,
    'the owner is not locked out')
})

t.test('a machine client disabled on one instance: the others refuse its token within a second, and introspect it inactive', only, async t => {
  const { bases: [a, b, c], db } = await instances(t, 3)
  const asAdmin = await adminToken(a, db)
  const register = async (name: string) => {
    const res = await call(a, 'POST', '/admin/clients', { token: asAdmin, body: { name, scopes: ['tokens:introspect'] } })
    if (res.status !== 201) throw new Error(`register: ${res.status}`)
    return { id: res.body.client_id as string, basic: `Basic ${Buffer.from(`${res.body.client_id}:${res.body.client_secret}`).toString('base64')}` }
  }
  const form = (base: string, path: string, basic: string, body: string) => fetch(`${base}${path}`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body }).then(async res => ({ status: res.status, body: await res.json() }))
  const worker = await register('worker')
  const server = await register('resource server')
  const { body: { access_token: token } } = await form(b, '/auth/token', worker.basic, 'grant_type=client_credentials')
  // Each instance has read the client (and keeps it a moment) before it is disabled elsewhere.
  for (const base of [b, c]) t.equal((await call(base, 'GET', '/secure-data', { token })).status, 200)
  t.equal((await form(c, '/auth/introspect', server.basic, `token=${token}`)).body.active, true)

  await call(a, 'PATCH', `/admin/clients/${worker.id}`, { token: asAdmin, body: { disabled: true } })
  const start = performance.now()
  const pending = new Set([b, c])
  while (pending.size > 0 && performance.now() - start < 5000) {
    for (const base of pending) if ((await call(base, 'GET', '/secure-data', { token })).status === 401) pending.delete(base)
    if (pending.size > 0) await sleep(5)
  }
  const ms = performance.now() - start
  t.equal(pending.size, 0, 'refused everywhere')
  t.ok(ms < 1000, `refused by the other two after ${ms.toFixed(0)} ms`)
  t.same((await form(c, '/auth/introspect', server.basic, `token=${token}`)).body, { active: false })
  t.equal((await form(b, '/auth/token', worker.basic, 'grant_type=client_credentials')).status, 401, 'and it gets no new token there')
})
