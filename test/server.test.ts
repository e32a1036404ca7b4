// The real entry point, as a process: refusing a bad production configuration, serving, and
// closing gracefully on SIGTERM.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import t from 'tap'
import { decodeJwt, tempDir, testEnv } from './helper.js'
import { listening, startServer as start, waitForOutput } from './process.js'

t.test('production without a usable JWT_SECRET stops with one line and exit code 1', async t => {
  for (const secret of [undefined, 'too-short']) {
    const dir = tempDir(t)
    const env = testEnv(dir, { NODE_ENV: 'production', BCRYPT_ROUNDS: '10' })
    delete (env as Record<string, string | undefined>).JWT_SECRET
    if (secret !== undefined) env.JWT_SECRET = secret
    const proc = start(t, env, dir)
    const [code] = await proc.exited
    t.equal(code, 1, `secret ${secret}`)
    const lines = proc.err().trim().split('\n')
    t.equal(lines.length, 1, 'one line')
    t.match(lines[0], /^authd: configuration error: JWT_SECRET (is not set|is shorter than 32 bytes); set it to at least 32 random bytes/)
    t.equal(proc.out(), '')
    t.notOk(existsSync(join(dir, 'auth.db')), 'nothing was created')
  }
})

t.test('it starts on an empty database, serves, and closes gracefully on SIGTERM', async t => {
  const dir = tempDir(t)
  const proc = start(t, testEnv(dir, { NODE_ENV: 'production', BCRYPT_ROUNDS: '13', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' }), dir)
  const base = await listening(proc)
  t.ok(existsSync(join(dir, 'auth.db')), 'the database file was created')
  t.match(proc.out(), /"msg":"database migrated"/)

  const ready = await fetch(`${base}/ready`)
  t.equal(ready.status, 200)

  // The bundle finds the files it serves outside itself: the page's, and Swagger UI's.
  for (const [path, type] of [['/', 'text/html'], ['/docs/', 'text/html'], ['/docs/static/swagger-ui-bundle.js', 'application/javascript'], ['/docs/static/logo.svg', 'image/svg+xml']]) {
    const res = await fetch(`${base}${path}`)
    t.equal(res.status, 200, path)
    t.match(res.headers.get('content-type'), type, path)
    t.ok((await res.arrayBuffer()).byteLength > 0, path)
  }

  // A registration takes a cost-13 bcrypt (most of a second): SIGTERM arrives while it runs,
  // and it must still complete before the process exits.
  const pending = fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'late', email: 'late@example.com', password: 'a long enough password' })
  })
  await waitForOutput(proc, /"url":"\/auth\/register".*"msg":"incoming request"/)
  proc.child.kill('SIGTERM')
  const res = await pending
  t.equal(res.status, 201, 'the request in flight was answered')
  t.equal(res.headers.get('connection'), 'close', 'and told the client not to keep the connection')
  const [code, signal] = await proc.exited
  t.equal(code, 0, proc.err())
  t.equal(signal, null)
  t.match(proc.out(), /"signal":"SIGTERM","msg":"closing"/)
})

// In its own process: the test above waits for a registration's log line, which these would
// also write.
t.test('the bundle validates with the code compiled at build time (dist/schemas.cjs)', async t => {
  const dir = tempDir(t)
  const proc = start(t, testEnv(dir, { NODE_ENV: 'production', BCRYPT_ROUNDS: '10', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' }), dir)
  const base = await listening(proc)
  const register = (body: unknown) => fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  // A body that breaks each kind of rule is refused.
  for (const body of [{ username: 'ab', email: 'a@example.com', password: 'long enough password' },
    { username: 'abc', email: 'not-an-email', password: 'long enough password' },
    { username: 'abc', email: 'a@example.com', password: 12345678 },
    { username: 'abc', email: 'a@example.com', password: 'long enough password', role: 'admin' }]) {
    const refused = await register(body)
    t.equal(refused.status, 400, JSON.stringify(body))
    t.equal((await refused.json()).error, 'invalid_request')
  }
  t.equal((await register({ username: 'abc', email: 'a@example.com', password: 'long enough password' })).status, 201, 'and a valid one accepted')
})

// src/server.ts turns V8's compile cache on, in dist/.compile-cache (which the build fills, and
// fails if it cannot: src/cli/warm-compile-cache.ts): the bundle's code is read from there, not
// compiled again. Beside the code, in the folder only the code's owner writes: never a shared
// temporary folder, whose cache another user could fill with code of their own.
t.test('the bundle starts from the compile cache beside it, in dist/', async t => {
  const dir = tempDir(t)
  const proc = start(t, testEnv(dir, { NODE_ENV: 'production', BCRYPT_ROUNDS: '10', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', NODE_DEBUG_NATIVE: 'COMPILE_CACHE' }), dir)
  await listening(proc)
  const dist = new URL('../dist/', import.meta.url).pathname
  const cached = new RegExp(`reading cache from ${dist}\\.compile-cache/\\S+ for ESM file://${dist}service\\.js\\.\\.\\.\\[[\\d ]+\\]\\.\\.\\. success`)
  t.match(proc.err(), cached, 'the bundle\'s entry is found in dist/.compile-cache')
  t.match(proc.err(), `V8 code cache for ESM file://${dist}service.js was accepted`, 'and V8 takes it')
})

t.test('a .env file in the working directory is read, and the environment wins over it', async t => {
  const dir = tempDir(t)
  writeFileSync(join(dir, '.env'), 'JWT_ISSUER=from-dotenv\nACCESS_TOKEN_TTL=123\n')
  const proc = start(t, testEnv(dir, { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ACCESS_TOKEN_TTL: '456' }), dir)
  const base = await listening(proc)
  const user = { username: 'dotenv', email: 'dotenv@example.com', password: 'a long enough password' }
  await fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) })
  const res = await fetch(`${base}/auth/token`, { method: 'POST', body: new URLSearchParams({ username: user.username, password: user.password }) })
  const claims = decodeJwt((await res.json() as { access_token: string }).access_token).payload
  t.equal(claims.iss, 'from-dotenv')
  t.equal(claims.exp - claims.iat, 456)
})

t.test('a PostgreSQL DATABASE_URL that cannot be reached stops the start with one line that names it, without its password', async t => {
  const dir = tempDir(t)
  // A port nothing listens on.
  const url = 'postgres://authd:hunter2-secret@127.0.0.1:9/authd?sslmode=disable'
  const proc = start(t, testEnv(dir, { DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT_MS: '2000', LOG_LEVEL: 'info' }), dir)
  const [code] = await proc.exited
  t.equal(code, 1)
  const lines = proc.err().trim().split('\n')
  t.equal(lines.length, 1, 'one line')
  t.match(lines[0], /^authd: DATABASE_URL: cannot connect to PostgreSQL at postgres:\/\/authd@127\.0\.0\.1:9\/authd\?sslmode=disable: .*ECONNREFUSED/)
  t.notMatch(proc.err() + proc.out(), /hunter2/, 'the password reaches neither output')
})
