import { rmSync } from 'node:fs'
import t from 'tap'
import { build, onPostgres, tempDir } from '../helper.js'

t.test('GET /health answers while the process lives', async t => {
  const app = await build(t)
  const res = await app.inject('/health')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('GET /ready answers 200 when the database does, 503 when it cannot be reached', {
  skip: onPostgres && 'a SQLite volume removed; PostgreSQL\'s outage is in test/store/postgres.test.ts'
}, async t => {
  const dir = tempDir(t)
  const app = await build(t, {}, { dir })
  const ok = await app.inject('/ready')
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { status: 'ready' })

  // The volume goes away: Prisma's next connection attempt has nothing to open.
  await app.store.prisma.$disconnect()
  rmSync(dir, { recursive: true, force: true })
  const down = await app.inject('/ready')
  t.equal(down.statusCode, 503)
  t.same(down.json(), { error: 'not_ready', message: 'The database does not answer' })
  t.equal(down.headers['retry-after'], '5')
})
