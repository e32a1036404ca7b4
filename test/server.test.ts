// The real entry point, as a process: refusing a bad production configuration, serving, and
// closing gracefully on SIGTERM.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { tempDir, testEnv } from './helper.js'
import { listening, startServer as start } from './process.js'

t.test('production without a usable JWT_SECRET stops with one line and exit code 1', async t => {
  for (const secret of [undefined, 'too-short']) {
    const dir = tempDir(t)
    const env = testEnv(dir, { NODE_ENV: 'production', BCRYPT_ROUNDS: '10' })
    delete (env as Record<string, string | undefined>).JWT_SECRET
    if (secret !== undefined) env.JWT_SECRET = secret
    const proc = start(env, dir)
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
  const proc = start(testEnv(dir, { NODE_ENV: 'production', BCRYPT_ROUNDS: '13', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' }), dir)
  t.teardown(() => { proc.child.kill('SIGKILL') })
  const base = await listening(proc)
  t.ok(existsSync(join(dir, 'auth.db')), 'the database file was created')
  t.match(proc.out(), /"msg":"database migrated"/)

  const ready = await fetch(`${base}/ready`)
  t.equal(ready.status, 200)

  // A registration takes a cost-13 bcrypt (most of a second): SIGTERM arrives while it runs,
  // and it must still complete before the process exits.
  const pending = fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'late', email: 'late@example.com', password: 'a long enough password' })
  })
  await sleep(150)
  proc.child.kill('SIGTERM')
  const res = await pending
  t.equal(res.status, 201, 'the request in flight was answered')
  const [code, signal] = await proc.exited
  t.equal(code, 0, proc.err())
  t.equal(signal, null)
  t.match(proc.out(), /"signal":"SIGTERM","msg":"closing"/)
})
