// A process killed with SIGKILL in the middle of a burst of writes: every write it acknowledged
// must be there after a restart, and the database must be intact.
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import t from 'tap'
import { build, refresh, tempDir, testEnv } from './helper.js'
import { hashRefreshToken } from '../src/auth/refresh-token.js'
import { listening, startServer, writeBurst } from './process.js'

t.test('SIGKILL during concurrent refreshes and registrations loses nothing acknowledged', async t => {
  const dir = tempDir(t)
  // A wide grace window: the last acknowledged token may have been rotated once more, unacknowledged,
  // just before the kill; presenting it again after the restart is then a retry, not a theft.
  // And no limit on rotations: the chains rotate as fast as the service answers.
  const env = testEnv(dir, { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', REFRESH_REUSE_GRACE: '600', RATE_LIMIT_REFRESH: '1000000' })
  const proc = startServer(t, env, dir)
  const base = await listening(proc)

  const burst = await writeBurst(t, base, '')
  await sleep(300 + Math.random() * 1200)
  proc.child.kill('SIGKILL')
  await burst.stop()
  const [, signal] = await proc.exited
  t.equal(signal, 'SIGKILL')
  const { chains, registered } = burst
  t.ok(burst.acknowledged() > 0, `${burst.acknowledged()} rotations and ${registered.length} registrations acknowledged before the kill`)

  const db = new Database(join(dir, 'auth.db'))
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  const tokenRow = db.prepare('SELECT usedAt FROM RefreshToken WHERE hash = ?')
  for (const chain of chains) {
    chain.slice(0, -1).forEach(token => t.ok((tokenRow.get(hashRefreshToken(token)) as { usedAt: unknown } | undefined)?.usedAt, 'each rotated token is recorded used'))
    t.ok(tokenRow.get(hashRefreshToken(chain.at(-1) as string)), 'the last acknowledged token is stored')
  }
  const userRow = db.prepare('SELECT 1 FROM User WHERE username = ?')
  t.same(registered.filter(username => userRow.get(username) === undefined), [], 'every acknowledged registration is stored')
  db.close()

  // And the restarted service takes up every chain where the client left it.
  const app = await build(t, { REFRESH_REUSE_GRACE: '600' }, { dir })
  for (const chain of chains) t.equal((await refresh(app, chain.at(-1) as string)).statusCode, 200)
})
