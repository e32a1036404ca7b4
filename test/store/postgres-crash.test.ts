// One of two instances on one PostgreSQL database killed with SIGKILL in the middle of a burst of
// writes: every write it acknowledged is in the database, and the other instance keeps serving
// throughout, taking up every refresh-token chain where the client left it.
// TEST_ENGINE=postgres (npm run test:postgres).
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import pg from 'pg'
import { hashRefreshToken } from '../../src/auth/refresh-token.js'
import { onPostgres, PASSWORD, tempDir, testEnv } from '../helper.js'
import { postgresDatabase } from '../postgres.js'
import { listening, post, startServer, writeBurst } from '../process.js'

const only = { skip: onPostgres ? false : 'PostgreSQL only: npm run test:postgres' }

t.test('SIGKILL of one instance mid-burst loses nothing it acknowledged; the other keeps serving', only, async t => {
  const url = await postgresDatabase(tempDir(t))
  // A wide grace window: the last acknowledged token may have been rotated once more, unacknowledged,
  // just before the kill; presenting it again is then a retry, not a theft.
  const env = (dir: string) => testEnv(dir, { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: url, REFRESH_REUSE_GRACE: '600', RATE_LIMIT_REFRESH: '1000000' })
  const [dirA, dirB] = [tempDir(t), tempDir(t)]
  const victim = startServer(t, env(dirA), dirA)
  const survivor = startServer(t, env(dirB), dirB)
  const [a, b] = await Promise.all([listening(victim), listening(survivor)])

  const burst = await writeBurst(t, a, 'pg')
  // The survivor serves its own clients all along.
  let killed = false
  let survivorServed = 0
  const alongside = (async () => {
    while (!killed) {
      t.equal((await fetch(`${b}/ready`)).status, 200)
      survivorServed++
      await sleep(20)
    }
  })()
  await sleep(300 + Math.random() * 1200)
  victim.child.kill('SIGKILL')
  killed = true
  await Promise.all([burst.stop(), alongside])
  t.equal((await victim.exited)[1], 'SIGKILL')
  const { chains, registered } = burst
  t.ok(burst.acknowledged() > 0, `${burst.acknowledged()} rotations and ${registered.length} registrations acknowledged before the kill; the survivor answered ${survivorServed} times meanwhile`)

  const db = new pg.Client({ connectionString: url })
  await db.connect()
  t.teardown(() => db.end())
  const usedAt = async (token: string) => (await db.query('SELECT "usedAt" FROM "RefreshToken" WHERE hash = $1', [hashRefreshToken(token)])).rows[0]
  for (const chain of chains) {
    for (const token of chain.slice(0, -1)) t.ok((await usedAt(token))?.usedAt, 'each rotated token is recorded used')
    t.ok(await usedAt(chain.at(-1) as string), 'the last acknowledged token is stored')
  }
  const { rows } = await db.query<{ username: string }>('SELECT username FROM "User" WHERE username = ANY($1)', [registered])
  t.equal(rows.length, registered.length, 'every acknowledged registration is stored')

  // The survivor takes up every chain where the client left it.
  for (const chain of chains) t.equal((await post(b, '/auth/refresh', { refresh_token: chain.at(-1) })).status, 200)
  t.equal((await post(b, '/auth/token', { username: 'pgchain0', password: PASSWORD })).status, 200, 'and logs people in')
})
