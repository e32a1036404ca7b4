// npm run bench [-- --quick]
// Starts the built service as a process with production defaults (NODE_ENV=production, logging
// on, a fresh SQLite file) and drives it with autocannon from this process. Every row is a ratio
// to a baseline measured in the same run on the same machine: absolute numbers mean little on a
// shared machine, ratios hold. Prints one markdown table and writes it to bench/results.md.
import { spawn } from 'node:child_process'
import { randomBytes, randomUUID, createHash } from 'node:crypto'
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import bcrypt from 'bcryptjs'
import { Secret, TOTP } from 'otpauth'
import { postgresRows, postgresServer } from './postgres.mjs'
import { firstVerifications } from './first-verify.mjs'

const QUICK = process.argv.includes('--quick')
const time = (seconds) => QUICK ? Math.max(1, Math.round(seconds / 4)) : seconds
const ROOT = new URL('..', import.meta.url).pathname
const WORK = mkdtempSync(join(tmpdir(), 'authd-bench-'))
const PASSWORD = 'a bench password of decent length'
const CONNECTIONS = 10
const BCRYPT_COST = 12

// ---------------------------------------------------------------------------------------------
// Processes

async function freePort () {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise(resolve => server.once('listening', resolve))
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

// Every process started, killed at the end whatever happens.
const children = new Set()

/** Spawns a server, waits for its first 200 on `readyPath`, and times that. */
async function launch (name, script, env, readyPath) {
  const port = await freePort()
  // Each process with metrics on gets a metrics port of its own.
  if (env.METRICS_PORT !== undefined) env = { ...env, METRICS_PORT: String(await freePort()) }
  const log = openSync(join(WORK, `${name}.log`), 'a')
  const started = performance.now()
  const child = spawn(process.execPath, [script], { cwd: WORK, env: { PATH: process.env.PATH, ...env, PORT: String(port) }, stdio: ['ignore', log, log] })
  closeSync(log)
  children.add(child)
  const url = `http://127.0.0.1:${port}`
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited:\n${readFileSync(join(WORK, `${name}.log`), 'utf8')}`)
    const status = await fetch(url + readyPath).then(res => res.status, () => 0)
    if (status === 200) break
    await sleep(5)
  }
  return { url, child, startMs: performance.now() - started, stop: () => { child.kill('SIGKILL') } }
}

function rssMb (pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024
}

// ---------------------------------------------------------------------------------------------
// Measurements

async function cannon (url, { shedding = false, ...options }) {
  const result = await autocannon({ url, connections: CONNECTIONS, ...options })
  const failures = result.non2xx + result.errors + result.timeouts
  // A bounded queue answering 503 overloaded is the service working as designed, when asked to.
  const shed = shedding ? result.statusCodeStats?.['503']?.count ?? 0 : 0
  if (failures - shed > 0) {
    const statuses = Object.entries(result.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2')).map(([code, { count }]) => `${count} × ${code}`)
    console.error(`${url}: ${[...statuses, `${result.errors} errors`, `${result.timeouts} timeouts`].join(', ')}`)
  }
  const ok = Object.entries(result.statusCodeStats ?? {}).filter(([code]) => code.startsWith('2')).reduce((n, [, { count }]) => n + count, 0)
  return { rps: result.requests.average, okPerSecond: ok / (result.duration || 1), p50: result.latency.p50, p99: result.latency.p99, failures: failures - shed, shed }
}

/** Rounds of one series as one measurement: requests/s over all of them, the worst p99. */
function combine (rounds) {
  const mean = (key) => rounds.reduce((sum, r) => sum + r[key], 0) / rounds.length
  return {
    rps: mean('rps'),
    p50: Math.max(...rounds.map(r => r.p50)),
    p99: Math.max(...rounds.map(r => r.p99)),
    failures: rounds.reduce((sum, r) => sum + r.failures, 0)
  }
}

/** bcryptjs compares per second on every core, in worker threads, without HTTP. */
async function bcryptBaseline (seconds, hash) {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const bcrypt = require(${JSON.stringify(join(ROOT, 'node_modules/bcryptjs/umd/index.js'))})
    const end = Date.now() + workerData.seconds * 1000
    let n = 0
    while (Date.now() < end) { bcrypt.compareSync(workerData.password, workerData.hash); n++ }
    parentPort.postMessage(n)`
  const counts = await Promise.all(Array.from({ length: availableParallelism() }, () => new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { seconds, hash, password: PASSWORD } })
    worker.once('message', resolve)
    worker.once('error', reject)
  })))
  return { rps: counts.reduce((a, b) => a + b, 0) / seconds }
}

/** The writes of one rotation, done with raw better-sqlite3 statements on a copy of the schema. */
function rawRotations (seconds) {
  const db = new Database(join(WORK, 'raw.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  const migrations = join(ROOT, 'prisma/migrations')
  for (const dir of readdirSync(migrations, { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name).sort()) {
    db.exec(readFileSync(join(migrations, dir, 'migration.sql'), 'utf8'))
  }
  const now = () => new Date().toISOString()
  const hash = (token) => createHash('sha256').update(token).digest('base64url')
  db.prepare("INSERT INTO User (id, username, email, passwordHash, updatedAt) VALUES ('u', 'u', 'u@x', 'x', ?)").run(now())
  db.prepare("INSERT INTO Session (id, userId, scope, expiresAt) VALUES ('s', 'u', 'profile', ?)").run(now())
  const find = db.prepare('SELECT id, sessionId, usedAt FROM RefreshToken WHERE hash = ?')
  const claim = db.prepare('UPDATE RefreshToken SET usedAt = ?, successor = ? WHERE id = ? AND usedAt IS NULL')
  const insert = db.prepare('INSERT INTO RefreshToken (id, hash, sessionId, expiresAt) VALUES (?, ?, ?, ?)')
  const touch = db.prepare('UPDATE Session SET lastUsedAt = ? WHERE id = ?')
  const rotate = db.transaction((token, next) => {
    const row = find.get(hash(token))
    claim.run(now(), 'sealed', row.id)
    insert.run(randomUUID(), hash(next), row.sessionId, now())
    touch.run(now(), row.sessionId)
  })
  let token = randomBytes(32).toString('base64url')
  insert.run(randomUUID(), hash(token), 's', now())
  const end = Date.now() + seconds * 1000
  let n = 0
  while (Date.now() < end) {
    const next = randomBytes(32).toString('base64url')
    rotate.immediate(token, next)
    token = next
    n++
  }
  db.close()
  return { rps: n / seconds }
}

// ---------------------------------------------------------------------------------------------
// The run

const serviceEnv = {
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  JWT_SECRET: randomBytes(48).toString('base64'),
  BCRYPT_ROUNDS: String(BCRYPT_COST),
  // The benchmark is one client hammering the service: it measures throughput, not the limits.
  // (Every limit still counts; the login row's logins are right ones, whose slots are given back.)
  RATE_LIMIT_LOGIN: '100000000',
  RATE_LIMIT_ACCOUNT: '1000',
  RATE_LIMIT_REFRESH: '100000000',
  RATE_LIMIT_CLIENT: '100000000',
  RATE_LIMIT_REGISTER: '100000000',
  RATE_LIMIT_NOT_FOUND: '100000000',
  // Metrics on, as a deployment runs (launch() gives each process a port; the metrics row
  // measures what they cost).
  METRICS_PORT: '0'
}

const rows = []
const row = (name, measured, baseline, ratio, goal, met) => rows.push({ name, measured, baseline, ratio, goal, met })
const rate = (m) => `${Math.round(m.rps).toLocaleString('en')} req/s`
const lat = (m) => m.p50 === undefined ? '' : `, p50 ${m.p50} ms, p99 ${m.p99} ms`
const fmt = (m) => `${rate(m)}${lat(m)}`

try {
  const warm = time(2)
  const d = time(8)
  const SERIES = QUICK ? 1 : 3

  // Start times: bare Fastify, the service on an empty database (to /ready, migrations
  // included) and what Fastify and Prisma alone take on an empty file (bench/prisma-floor.mjs),
  // started in turn, five times each, so that the machine's drift weighs on all three alike;
  // the median of each. The last bare app and the last service stay up for the rows below.
  const STARTS = 5
  const starts = { bare: [], service: [], floor: [] }
  let bare
  let service
  for (let i = 0; i < STARTS; i++) {
    bare?.stop()
    bare = await launch(`baseline-${i}`, join(ROOT, 'bench/baseline-server.mjs'), { PATH: process.env.PATH }, '/')
    starts.bare.push(bare.startMs)
    service?.stop()
    serviceEnv.DATABASE_URL = `file:${join(WORK, `auth-${i}.db`)}`
    service = await launch(`service-${i}`, join(ROOT, 'dist/server.js'), serviceEnv, '/ready')
    starts.service.push(service.startMs)
    const floor = await launch(`floor-${i}`, join(ROOT, 'bench/prisma-floor.mjs'), { NODE_ENV: 'production', DATABASE_URL: `file:${join(WORK, `floor-${i}.db`)}` }, '/')
    floor.stop()
    starts.floor.push(floor.startMs)
  }
  await cannon(bare.url, { duration: warm })
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const [serviceStart, bareStart, floorStart] = [median(starts.service), median(starts.bare), median(starts.floor)]
  row('start', { text: `${Math.round(serviceStart)} ms to /ready` }, { text: `${Math.round(bareStart)} ms to first 200` },
    serviceStart / bareStart, '≤ 3×', serviceStart / bareStart <= 3)

  const post = (path, body, headers = {}) => fetch(service.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  await post('/auth/register', { username: 'bench', email: 'bench@example.com', password: PASSWORD })
  const logins = await Promise.all(Array.from({ length: CONNECTIONS }, () => post('/auth/token', { username: 'bench', password: PASSWORD }).then(res => res.json())))
  const accessToken = logins[0].access_token
  const csrf = await fetch(service.url + '/auth/csrf')
  const csrfCookie = csrf.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
  const browserLogin = await post('/auth/login', { username: 'bench', password: PASSWORD }, { 'x-csrf-token': (await csrf.json()).csrfToken, cookie: csrfCookie, origin: service.url })
  const accessCookie = browserLogin.headers.getSetCookie().find(c => c.startsWith('__Host-access=')).split(';')[0]

  // bearer and cookie against the bare app, in alternating rounds, so that a change in the
  // machine's load during the run weighs on both sides alike.
  const bearerHeaders = { authorization: `Bearer ${accessToken}` }
  const cookieHeaders = { cookie: accessCookie }
  await cannon(`${service.url}/secure-data`, { duration: warm, headers: bearerHeaders })
  // The wire floor (bench/wire-floor.mjs) answers with the headers of the service's answer that
  // the bare app's lacks, and gets the bearer header too: it tells the cost of what goes over
  // the wire from the cost of the service's own work. Not a row: no goal is set against it.
  const bareNames = new Set((await fetch(bare.url)).headers.keys())
  const wireHeaders = Object.fromEntries([...(await fetch(`${service.url}/secure-data`, { headers: bearerHeaders })).headers].filter(([name]) => !bareNames.has(name)))
  const wire = await launch('wire-floor', join(ROOT, 'bench/wire-floor.mjs'), { WIRE_HEADERS: JSON.stringify(wireHeaders) }, '/')
  await cannon(wire.url, { duration: warm, headers: bearerHeaders })
  const series = { baseline: [], wire: [], bearer: [], cookie: [] }
  for (let i = 0; i < SERIES; i++) {
    series.baseline.push(await cannon(bare.url, { duration: d / SERIES }))
    series.wire.push(await cannon(wire.url, { duration: d / SERIES, headers: bearerHeaders }))
    series.bearer.push(await cannon(`${service.url}/secure-data`, { duration: d / SERIES, headers: bearerHeaders }))
    series.cookie.push(await cannon(`${service.url}/secure-data`, { duration: d / SERIES, headers: cookieHeaders }))
  }
  wire.stop()
  const [baseline, wireFloor, bearer, cookie] = [combine(series.baseline), combine(series.wire), combine(series.bearer), combine(series.cookie)]
  row('bearer', bearer, baseline, bearer.rps / baseline.rps, '≥ 0.80×', bearer.rps / baseline.rps >= 0.8)
  row('cookie', cookie, baseline, cookie.rps / baseline.rps, '≥ 0.75×', cookie.rps / baseline.rps >= 0.75)

  // metrics, tracing: the bearer row on three fresh services alike but for these: metrics off,
  // metrics on, and traces on too (every request's, exported by OTLP to a sink,
  // bench/otlp-sink.mjs), in alternating rounds.
  const sink = await launch('otlp-sink', join(ROOT, 'bench/otlp-sink.mjs'), {}, '/')
  const variant = async (name, env) => {
    const { METRICS_PORT, ...rest } = serviceEnv
    const svc = await launch(name, join(ROOT, 'dist/server.js'), { ...rest, ...env, DATABASE_URL: `file:${join(WORK, `${name}.db`)}` }, '/ready')
    const send = (path, body) => fetch(svc.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    await send('/auth/register', { username: 'bench', email: 'bench@example.com', password: PASSWORD })
    const headers = { authorization: `Bearer ${(await send('/auth/token', { username: 'bench', password: PASSWORD }).then(res => res.json())).access_token}` }
    await cannon(`${svc.url}/secure-data`, { duration: warm, headers })
    return { svc, headers }
  }
  const plain = await variant('service-plain', {})
  const meteredService = await variant('service-metered', { METRICS_PORT: '0' })
  const traced = await variant('service-traced', { METRICS_PORT: '0', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url })
  const costSeries = { plain: [], metered: [], traced: [] }
  for (let i = 0; i < SERIES; i++) {
    costSeries.plain.push(await cannon(`${plain.svc.url}/secure-data`, { duration: d / SERIES, headers: plain.headers }))
    costSeries.metered.push(await cannon(`${meteredService.svc.url}/secure-data`, { duration: d / SERIES, headers: meteredService.headers }))
    costSeries.traced.push(await cannon(`${traced.svc.url}/secure-data`, { duration: d / SERIES, headers: traced.headers }))
  }
  for (const { svc } of [plain, meteredService, traced]) svc.stop()
  sink.stop()
  const [unmetered, metered, tracedBearer] = [combine(costSeries.plain), combine(costSeries.metered), combine(costSeries.traced)]
  row('metrics', metered, { ...unmetered, text: `${fmt(unmetered)} without` }, metered.rps / unmetered.rps, 'none (informational)', true)
  row('tracing', tracedBearer, { ...metered, text: `${fmt(metered)} without` }, tracedBearer.rps / metered.rps, 'none (informational)', true)

  // bearer EdDSA: the bearer row (ES256 above, the default) with a service that signs EdDSA.
  const eddsa = await launch('service-eddsa', join(ROOT, 'dist/server.js'), { ...serviceEnv, JWT_ALG: 'EdDSA', DATABASE_URL: `file:${join(WORK, 'auth-eddsa.db')}` }, '/ready')
  const eddsaPost = (path, body) => fetch(eddsa.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  await eddsaPost('/auth/register', { username: 'bench', email: 'bench@example.com', password: PASSWORD })
  const eddsaHeaders = { authorization: `Bearer ${(await eddsaPost('/auth/token', { username: 'bench', password: PASSWORD }).then(res => res.json())).access_token}` }
  await cannon(`${eddsa.url}/secure-data`, { duration: warm, headers: eddsaHeaders })
  const eddsaSeries = { baseline: [], bearer: [] }
  for (let i = 0; i < SERIES; i++) {
    eddsaSeries.baseline.push(await cannon(bare.url, { duration: d / SERIES }))
    eddsaSeries.bearer.push(await cannon(`${eddsa.url}/secure-data`, { duration: d / SERIES, headers: eddsaHeaders }))
  }
  eddsa.stop()
  const [eddsaBaseline, eddsaBearer] = [combine(eddsaSeries.baseline), combine(eddsaSeries.bearer)]
  row('bearer EdDSA', eddsaBearer, eddsaBaseline, eddsaBearer.rps / eddsaBaseline.rps, '≥ 0.80×', eddsaBearer.rps / eddsaBaseline.rps >= 0.8)

  // first verify: what a token costs the first time it is seen (no cache), per algorithm.
  const firsts = await firstVerifications(time(2))
  const micro = (alg) => `${alg} ${firsts[alg].toFixed(0)} µs`
  row('first verify', { text: ['ES256', 'EdDSA', 'RS256'].map(micro).join(', ') }, { text: micro('HS256') }, firsts.ES256 / firsts.HS256, 'none (informational)', true)

  // The read paths that touch the database, at 32 connections, against the bare app at 32, in
  // alternating rounds: the signed-in user and session, the user's sessions (the bench user has
  // one per login, 12), and an admin's first page of 20 users (of 60).
  const file = serviceEnv.DATABASE_URL.slice('file:'.length)
  const seed = new Database(file)
  seed.prepare("INSERT INTO UserRole (userId, role) SELECT id, 'admin' FROM User WHERE username = 'bench'").run()
  // Times as Prisma writes them (src/db/adapter.ts, isoText), so that they order as its own.
  const at = new Date().toISOString().replace('Z', '+00:00')
  const addUser = seed.prepare('INSERT INTO User (id, username, email, passwordHash, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, ?)')
  const addRole = seed.prepare("INSERT INTO UserRole (userId, role) VALUES (?, 'user')")
  seed.transaction(() => {
    for (let i = 0; i < 59; i++) {
      const id = randomUUID()
      addUser.run(id, `reader${i}`, `reader${i}@example.com`, bcrypt.hashSync(PASSWORD, 4), at, at)
      addRole.run(id)
    }
  })()
  seed.close()
  // The admin scopes need a session opened with a second factor (MFA_REQUIRED_SCOPES): the bench
  // admin sets up TOTP, as an admin would, and signs in with a code of the next step.
  const profile = { authorization: `Bearer ${(await post('/auth/token', { username: 'bench', password: PASSWORD }).then(res => res.json())).access_token}` }
  const { secret } = await post('/auth/mfa/totp', {}, profile).then(res => res.json())
  const step = TOTP.counter({ timestamp: Date.now() })
  const code = (n) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: n * 30_000 })
  const { recoveryCodes } = await post('/auth/mfa/totp/confirm', { code: code(step) }, profile).then(res => res.json())
  const { mfa_token: mfaToken } = await post('/auth/token', { username: 'bench', password: PASSWORD }).then(res => res.json())
  const admin = await post('/auth/token', { grant_type: 'urn:authd:params:oauth:grant-type:mfa-otp', mfa_token: mfaToken, otp: code(step + 1) }).then(res => res.json())
  if (admin.access_token === undefined) throw new Error(`the bench admin could not sign in with a code: ${JSON.stringify(admin)}`)
  const adminHeaders = { authorization: `Bearer ${admin.access_token}` }
  const wide = { connections: 32 }
  const paths = { me: '/auth/me', sessions: '/auth/sessions', adminUsers: '/admin/users?limit=20' }
  for (const path of Object.values(paths)) await cannon(`${service.url}${path}`, { duration: warm, headers: adminHeaders, ...wide })
  const reads = { baseline: [], me: [], sessions: [], adminUsers: [] }
  for (let i = 0; i < SERIES; i++) {
    reads.baseline.push(await cannon(bare.url, { duration: d / SERIES, ...wide }))
    for (const [name, path] of Object.entries(paths)) reads[name].push(await cannon(`${service.url}${path}`, { duration: d / SERIES, headers: adminHeaders, ...wide }))
  }
  // Machine clients: client-credentials tokens (Basic, each a fresh ES256 signature) and
  // introspections of a user's access token (Basic), against the bare app answering a posted
  // form, alternating rounds.
  const registered = await post('/admin/clients', { name: 'bench', scopes: ['tokens:introspect'] }, adminHeaders).then(res => res.json())
  // The login rows measure a login as most users have it, a password alone: TOTP off again.
  const off = await fetch(`${service.url}/auth/mfa/totp`, { method: 'DELETE', headers: { 'content-type': 'application/json', ...profile }, body: JSON.stringify({ password: PASSWORD, code: recoveryCodes[0] }) })
  if (off.status !== 204) throw new Error(`the bench admin could not turn TOTP off: ${off.status}`)
  const clientBasic = { authorization: `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }
  const machine = {
    tokens: { url: `${service.url}/auth/token`, method: 'POST', headers: clientBasic, body: 'grant_type=client_credentials' },
    introspect: { url: `${service.url}/auth/introspect`, method: 'POST', headers: clientBasic, body: `token=${accessToken}` }
  }
  // The baseline posts a form of the same length to the bare app: reading a body costs both sides.
  const barePost = { method: 'POST', headers: clientBasic, body: machine.introspect.body }
  for (const request of Object.values(machine)) await cannon(request.url, { duration: warm, ...request })
  const machineRounds = { baseline: [], tokens: [], introspect: [] }
  for (let i = 0; i < SERIES; i++) {
    machineRounds.baseline.push(await cannon(bare.url, { duration: d / SERIES, ...barePost }))
    for (const [name, request] of Object.entries(machine)) machineRounds[name].push(await cannon(request.url, { duration: d / SERIES, ...request }))
  }
  const [machineBaseline, clientTokens, introspections] = [combine(machineRounds.baseline), combine(machineRounds.tokens), combine(machineRounds.introspect)]
  row('client credentials', clientTokens, machineBaseline, clientTokens.rps / machineBaseline.rps, 'none (informational)', true)
  row('introspection', introspections, machineBaseline, introspections.rps / machineBaseline.rps, '≥ 0.5×', introspections.rps / machineBaseline.rps >= 0.5)

  bare.stop()
  const [baseline32, me, sessions, adminUsers] = [combine(reads.baseline), combine(reads.me), combine(reads.sessions), combine(reads.adminUsers)]
  for (const [name, measured, goal] of [['me', me, 0.5], ['sessions', sessions, 0.4], ['admin users', adminUsers, 0.3]]) {
    const ratio = measured.rps / baseline32.rps
    row(name, measured, baseline32, ratio, `≥ ${goal}×, p99 ≤ 10 ms`, ratio >= goal && measured.p99 <= 10)
  }

  // login: bcrypt cost 12 behind HTTP, against bcryptjs on every core.
  const hash = bcrypt.hashSync(PASSWORD, BCRYPT_COST)
  const compares = await bcryptBaseline(time(8), hash)
  const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `username=bench&password=${encodeURIComponent(PASSWORD)}` }
  const idleStarted = performance.now()
  await fetch(`${service.url}/auth/token`, form)
  const idleLogin = performance.now() - idleStarted
  const login = await cannon(`${service.url}/auth/token`, { duration: time(12), connections: 16, ...form })
  row('login', login, compares, login.rps / compares.rps, '≥ 0.85×', login.rps / compares.rps >= 0.85)

  // When a row of logins ends, its last requests are still queued for the password workers:
  // the next row waits until a login takes no longer than on an idle service, so that it does
  // not share the cores with them (a minute at most, on a machine busy with something else).
  async function drained () {
    const giveUp = performance.now() + 60_000
    while (performance.now() < giveUp) {
      const started = performance.now()
      const status = (await fetch(`${service.url}/auth/token`, form)).status
      if (status === 200 && performance.now() - started < idleLogin * 1.5) return
      await sleep(200)
    }
    console.error('logins still slower than on an idle service after a minute; measuring anyway')
  }

  // storm: the bearer row's p99 while 16 clients log in without pause.
  await drained()
  const [stormed, stormLogins] = await Promise.all([
    cannon(`${service.url}/secure-data`, { duration: d, headers: bearerHeaders }),
    // The password workers run at the lowest CPU priority: while the bearer clients keep the
    // cores busy, logins wait, and past the bounded queue get 503 overloaded (and retry at once:
    // autocannon ignores Retry-After).
    cannon(`${service.url}/auth/token`, { duration: d, connections: 16, shedding: true, ...form })
  ])
  const stormNote = `${stormLogins.okPerSecond.toFixed(1)} logins/s, ${stormLogins.shed.toLocaleString('en')} shed with 503`
  row('storm', { ...stormed, text: `p99 ${stormed.p99} ms (${rate(stormed)}; ${stormNote})` }, { text: `p99 ${bearer.p99} ms alone` },
    stormed.p99 / Math.max(bearer.p99, 1), '≤ 5× and ≤ 50 ms', stormed.p99 / Math.max(bearer.p99, 1) <= 5 && stormed.p99 <= 50)

  // refresh: rotations, each with a fresh token, against the same writes in raw better-sqlite3.
  await drained()
  const pool = logins.map(l => l.refresh_token)
  const rotations = await cannon(`${service.url}/auth/refresh`, {
    duration: d,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => ({ ...request, body: JSON.stringify({ refresh_token: pool.shift() }) }),
      onResponse: (status, body) => { if (status === 200) pool.push(JSON.parse(body).refresh_token) }
    }]
  })
  const raw = rawRotations(time(5))
  row('refresh', rotations, { ...raw, text: `${Math.round(raw.rps).toLocaleString('en')} rotations/s` }, rotations.rps / raw.rps, '≥ 0.5×', rotations.rps / raw.rps >= 0.5)

  // revoked: the bearer row with 100,000 entries on the denylist (read by the service's sync),
  // against the bearer row measured again just before they are added, so that the two runs
  // are minutes closer than the bearer row is.
  const before = await cannon(`${service.url}/secure-data`, { duration: d, headers: bearerHeaders })
  const db = new Database(serviceEnv.DATABASE_URL.slice('file:'.length))
  const deny = db.prepare("INSERT INTO DeniedToken (kind, value, expiresAt) VALUES ('jti', ?, ?)")
  const until = new Date(Date.now() + 3_600_000).toISOString()
  db.transaction(() => { for (let i = 0; i < 100_000; i++) deny.run(randomUUID(), until) })()
  db.close()
  await sleep(3000)
  const revoked = await cannon(`${service.url}/secure-data`, { duration: d, headers: bearerHeaders })
  row('revoked', revoked, before, revoked.rps / before.rps, '≥ 0.95×', revoked.rps / before.rps >= 0.95)

  // memory: RSS after 300,000 bearer requests against RSS after the first 50,000.
  const [first, rest] = QUICK ? [10_000, 50_000] : [50_000, 250_000]
  await cannon(`${service.url}/secure-data`, { amount: first, headers: bearerHeaders })
  const early = rssMb(service.child.pid)
  await cannon(`${service.url}/secure-data`, { amount: rest, headers: bearerHeaders })
  const late = rssMb(service.child.pid)
  row('memory', { text: `${late.toFixed(1)} MB after ${(first + rest).toLocaleString('en')}` }, { text: `${early.toFixed(1)} MB after ${first.toLocaleString('en')}` },
    late / early, '≤ 1.1×', late / early <= 1.1)

  service.stop()

  // The PostgreSQL rows (bench/postgres.mjs), when a server is named.
  const postgresMeasured = postgresServer === undefined
    ? []
    : await postgresRows({ ROOT, launch, cannon, combine, serviceEnv, time, series: SERIES, row, PASSWORD, CONNECTIONS, QUICK })
  const failures = [baseline, wireFloor, bearer, cookie, unmetered, metered, tracedBearer, eddsaBaseline, eddsaBearer, baseline32, me, sessions, adminUsers, machineBaseline, clientTokens, introspections, login, stormed, stormLogins, rotations, before, revoked, ...postgresMeasured]
    .reduce((n, m) => n + m.failures, 0)

  const cell = (m) => m.text ?? fmt(m)
  const table = [
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}${QUICK ? ' (--quick: short runs, goals not checked)' : ''}`,
    '',
    '| row | measured | baseline (same run) | ratio | goal | met |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(r => `| ${r.name} | ${cell(r.measured)} | ${cell(r.baseline)} | ${r.ratio.toFixed(2)}× | ${r.goal} | ${QUICK ? '–' : r.met ? 'yes' : 'no'} |`),
    '',
    `Bare Fastify: ${fmt(baseline)}. Non-2xx answers or errors during the runs: ${failures}.`,
    '',
    `Wire floor: the bare app answering with the ${Object.keys(wireHeaders).length} headers the service adds (${Object.keys(wireHeaders).join(', ')}) ` +
      `and sent the same bearer header: ${fmt(wireFloor)}, ${(wireFloor.rps / baseline.rps).toFixed(2)}× the bare app; ` +
      `the bearer row is ${(bearer.rps / wireFloor.rps).toFixed(2)}× this floor (bench/wire-floor.mjs).`,
    '',
    `Start floor: the bare app with Prisma migrating the empty file and answering one query takes ${Math.round(floorStart)} ms, ` +
      `${(floorStart / bareStart).toFixed(2)}× the bare app (bench/prisma-floor.mjs).`,
    '',
    postgresServer === undefined
      ? 'PostgreSQL rows: not measured; set TEST_POSTGRES_URL (or BENCH_POSTGRES_URL) to a server where the user may create databases.'
      : 'PostgreSQL rows: two instances on one database of that server (bench/postgres.mjs); the revocation ratio is p99 over its 100 ms goal.'
  ].join('\n')
  console.log(table)
  writeFileSync(join(ROOT, 'bench/results.md'), table + '\n')
  if (failures > 0) process.exitCode = 1
} finally {
  for (const child of children) child.kill('SIGKILL')
  rmSync(WORK, { recursive: true, force: true })
}
