// The operator's metrics, as Prometheus sees them: a scenario of logins, refreshes and a logout,
// then a scrape of the metrics port parsed by Prometheus's own parser and linted by promtool.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { Browser, ORIGIN, PASSWORD, bearer, build, enableTotp, formPost, nextCode, onPostgres, refresh, register, signedIn, token, type App } from '../../helper.js'
import { MFA_OTP_GRANT } from '../../../src/schemas/mfa.js'
import { missingPrometheus, parseExposition, promtoolCheckMetrics, sampleValue, type Family } from '../../prometheus.js'
import { LOGIN_RESULTS, REFRESH_RESULTS } from '../../../src/auth/outcomes.js'

async function scrape (app: App): Promise<{ text: string, families: Family[] }> {
  const address = app.metrics.address()
  if (address === undefined) throw new Error('no metrics listener')
  const res = await fetch(`http://127.0.0.1:${address.port}/metrics`)
  if (res.status !== 200) throw new Error(`scrape: ${res.status}`)
  const text = await res.text()
  return { text, families: await parseExposition(text) }
}

const REVOCATION_KINDS = ['access_token', 'session', 'session_tokens', 'client_tokens', 'signing_key']

t.test('each counter moves by exactly what a scenario did; no label carries user data; promtool finds nothing to fix', { skip: missingPrometheus }, async t => {
  const app = await build(t, { METRICS_PORT: '0', HOST: '127.0.0.1', REFRESH_REUSE_GRACE: '1' })
  const before = await scrape(app)

  // The scenario: a registration, a good and a bad login, a refresh and its retry inside the
  // grace window, a reuse after it (which ends the session), then a second login and its logout,
  // and a signed-in request to a route with a parameter.
  const user = await register(app)
  const first = await token(app, user.username)
  t.equal((await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: 'not the password' } })).statusCode, 400)
  const rotated = await refresh(app, first.refresh_token)
  t.equal(rotated.statusCode, 200)
  t.equal((await refresh(app, first.refresh_token)).statusCode, 200, 'a retry inside the grace window')
  await sleep(1100)
  t.equal((await refresh(app, first.refresh_token)).statusCode, 400, 'a reuse after it')
  const second = await token(app, user.username)
  const unknownSession = '00000000-0000-4000-8000-000000000000'
  t.equal((await app.inject({ method: 'DELETE', url: `/auth/sessions/${unknownSession}`, headers: bearer(second.access_token) })).statusCode, 404)
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(second.access_token) })).statusCode, 204)

  const after = await scrape(app)
  const moved = (name: string, labels: Record<string, string>) =>
    sampleValue(after.families, name, labels) - sampleValue(before.families, name, labels)

  const logins = { success: 2, invalid_credentials: 1 } as Record<string, number>
  for (const result of LOGIN_RESULTS) t.equal(moved('authd_logins_total', { result }), logins[result] ?? 0, `logins: ${result}`)
  const refreshes = { rotated: 1, grace: 1, reuse_detected: 1 } as Record<string, number>
  for (const result of REFRESH_RESULTS) t.equal(moved('authd_refresh_total', { result }), refreshes[result] ?? 0, `refresh: ${result}`)
  // The reuse ended one session, the logout another and denied its access token.
  const revocations = { session: 2, access_token: 1 } as Record<string, number>
  for (const kind of REVOCATION_KINDS) t.equal(moved('authd_revocations_total', { kind }), revocations[kind] ?? 0, `revocations: ${kind}`)
  t.equal(moved('authd_password_wait_seconds_count', {}), 4, 'one wait for each bcrypt task: the registration\'s hash, three logins')

  // Routes by their pattern, never by the path asked for.
  const requests = (route: string, method: string, status: string) =>
    moved('http_request_duration_seconds_count', { route, method, status_code: status })
  t.equal(requests('/auth/token', 'POST', '200'), 2)
  t.equal(requests('/auth/token', 'POST', '400'), 1)
  t.equal(requests('/auth/refresh', 'POST', '200'), 2)
  t.equal(requests('/auth/sessions/:id', 'DELETE', '404'), 1)
  const routes = new Set(after.families.find(f => f.name === 'http_request_duration_seconds')?.samples.map(s => s.labels.route))
  t.notOk([...routes].some(route => route.includes(unknownSession)), 'no path as a route label')

  t.equal(sampleValue(after.families, 'authd_denylist_entries'), app.revocation.size())
  t.ok(app.revocation.size() >= 3)
  t.equal(sampleValue(after.families, 'authd_password_queue_depth'), 0)
  t.ok(after.families.some(f => f.name === 'authd_mail_outbox_pending'), 'the outbox gauge')
  const age = sampleValue(after.families, 'authd_signing_key_age_seconds')
  t.ok(age >= 0 && age < 600, `a fresh signing key's age: ${age}`)
  if (onPostgres) {
    t.ok(after.families.some(f => f.name === 'authd_db_pool_connections'), 'the pool gauges, on PostgreSQL')
  }
  t.ok(after.families.some(f => f.name === 'process_resident_memory_bytes'), 'the process\'s default metrics')
  t.ok(after.families.some(f => f.name === 'nodejs_eventloop_lag_seconds'), 'and Node\'s')

  // Nothing the scenario sent or was given appears in any label, of any metric.
  const secrets = [user.username, user.email, user.id, PASSWORD, first.access_token, first.refresh_token, second.access_token, second.refresh_token,
    rotated.json().refresh_token as string, JSON.parse(Buffer.from(first.access_token.split('.')[1], 'base64url').toString()).sid as string]
  const labels = after.families.flatMap(f => f.samples.flatMap(s => Object.values(s.labels)))
  for (const secret of secrets) t.notOk(labels.some(value => value.includes(secret)) || after.text.includes(secret), 'no user data in the scrape')
  const labelNames = (prefix: string) => new Set(after.families.filter(f => f.name.startsWith(prefix)).flatMap(f => f.samples.flatMap(s => Object.keys(s.labels))))
  t.same([...labelNames('authd_')].sort(), ['kind', 'le', 'result', 'state'].filter(name => name !== 'state' || onPostgres))
  t.same([...labelNames('http_request_duration_seconds')].sort(), ['le', 'method', 'route', 'status_code'])

  // The service's own metrics, that is: three of prom-client's defaults (nodejs_active_*_total)
  // are gauges named like counters, which promtool rightly flags, and which are not ours to rename.
  const own = after.text.split('\n').filter(line => /^(# (HELP|TYPE) )?(authd_|http_request_duration_seconds)/.test(line)).join('\n') + '\n'
  t.ok(own.split('\n').length > 100)
  const lint = await promtoolCheckMetrics(own)
  t.equal(lint.code, 0, lint.out)
  t.equal(lint.out.trim(), '')
})

t.test('/metrics is served on the metrics port only: the public port answers 404, the metrics port nothing else', async t => {
  const app = await build(t, { METRICS_PORT: '0', HOST: '127.0.0.1' })
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 404)
  t.equal(res.json().error, 'not_found')
  const port = app.metrics.address()?.port
  t.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404)
  t.equal((await fetch(`http://127.0.0.1:${port}/auth/token`, { method: 'POST' })).status, 404)
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.equal(metrics.status, 200)
  t.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
})

t.test('without METRICS_PORT there is no metrics listener, and /metrics is a 404', async t => {
  const app = await build(t)
  t.equal(app.metrics.address(), undefined)
  t.equal((await app.inject('/metrics')).statusCode, 404)
})

t.test('a login refused by the per-IP limit counts as rate_limited', { skip: missingPrometheus }, async t => {
  const app = await build(t, { METRICS_PORT: '0', HOST: '127.0.0.1', RATE_LIMIT_LOGIN: '1' })
  const user = await register(app)
  const before = await scrape(app)
  await token(app, user.username)
  t.equal((await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })).statusCode, 429)
  const after = await scrape(app)
  t.equal(sampleValue(after.families, 'authd_logins_total', { result: 'rate_limited' }) - sampleValue(before.families, 'authd_logins_total', { result: 'rate_limited' }), 1)
  t.equal(sampleValue(after.families, 'authd_logins_total', { result: 'success' }) - sampleValue(before.families, 'authd_logins_total', { result: 'success' }), 1)
})

t.test('a login with a second factor counts its steps: mfa_required, then mfa_failed or success; a stale handle invalid_mfa_token', { skip: missingPrometheus }, async t => {
  const app = await build(t, { METRICS_PORT: '0', HOST: '127.0.0.1' })
  const { user, tokens } = await signedIn(app)
  const totp = await enableTotp(app, tokens.access_token)
  const before = await scrape(app)

  const first = await formPost(app, '/auth/token', { username: user.username, password: PASSWORD })
  t.equal(first.statusCode, 403)
  const mfaToken = first.json().mfa_token as string
  t.equal((await formPost(app, '/auth/token', { grant_type: MFA_OTP_GRANT, mfa_token: mfaToken, otp: '000000' })).statusCode, 400)
  t.equal((await formPost(app, '/auth/token', { grant_type: MFA_OTP_GRANT, mfa_token: mfaToken, otp: nextCode(totp) })).statusCode, 200)
  t.equal((await formPost(app, '/auth/token', { grant_type: MFA_OTP_GRANT, mfa_token: mfaToken, otp: nextCode(totp) })).statusCode, 400, 'the handle is used up')

  const after = await scrape(app)
  const expected = { mfa_required: 1, mfa_failed: 1, success: 1, invalid_mfa_token: 1 } as Record<string, number>
  for (const result of LOGIN_RESULTS) {
    t.equal(sampleValue(after.families, 'authd_logins_total', { result }) - sampleValue(before.families, 'authd_logins_total', { result }), expected[result] ?? 0, result)
  }
})

t.test('a passkey sign-in that does not verify counts as passkey_refused, and opens nothing', { skip: missingPrometheus }, async t => {
  const app = await build(t, { METRICS_PORT: '0', HOST: '127.0.0.1' })
  const browser = new Browser(app)
  await browser.request('GET', '/auth/csrf')
  const { challenge } = (await browser.request('POST', '/auth/passkeys/login/options')).json()
  const before = await scrape(app)
  const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge, origin: ORIGIN, crossOrigin: false })).toString('base64url')
  const res = await browser.request('POST', '/auth/passkeys/login', {
    payload: { response: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON, authenticatorData: 'AAAA', signature: 'AAAA' } } }
  })
  t.equal(res.json().error, 'passkey_refused')
  const after = await scrape(app)
  for (const result of LOGIN_RESULTS) {
    t.equal(sampleValue(after.families, 'authd_logins_total', { result }) - sampleValue(before.families, 'authd_logins_total', { result }), result === 'passkey_refused' ? 1 : 0, result)
  }
})
