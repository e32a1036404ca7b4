// Other processes on the same file: a long read must not stop the service's writes; a held
// write lock becomes a 503 with Retry-After, never a 500 and never an acknowledged write lost.
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { build, newUser, refresh, signedIn, tempDir } from '../helper.js'

t.test('a read transaction held open by another process neither loses nor wedges later writes', async t => {
  const dir = tempDir(t)
  const app = await build(t, {}, { dir })
  const reader = new Database(join(dir, 'auth.db'), { readonly: true })
  t.teardown(() => reader.close())
  reader.exec('BEGIN')
  const before = (reader.prepare('SELECT count(*) AS n FROM User').get() as { n: number }).n

  const { tokens } = await signedIn(app)
  let refreshToken = tokens.refresh_token
  for (let i = 0; i < 20; i++) {
    t.equal((await app.inject({ method: 'POST', url: '/auth/register', payload: newUser() })).statusCode, 201)
    const next = await refresh(app, refreshToken)
    t.equal(next.statusCode, 200)
    refreshToken = next.json().refresh_token
  }
  t.equal((reader.prepare('SELECT count(*) AS n FROM User').get() as { n: number }).n, before, 'the reader still sees its snapshot')
  reader.exec('COMMIT')
  t.equal(await app.store.prisma.user.count(), before + 21, 'every acknowledged write is there')
  t.equal((reader.prepare('SELECT count(*) AS n FROM User').get() as { n: number }).n, before + 21)
})

t.test('a write lock held past the busy timeout: 503 database_busy, nothing half-written, then all is well', async t => {
  const dir = tempDir(t)
  const app = await build(t, {}, { dir })
  const { tokens } = await signedIn(app)
  const writer = new Database(join(dir, 'auth.db'))
  t.teardown(() => writer.close())
  writer.exec('BEGIN IMMEDIATE')

  const busy = await refresh(app, tokens.refresh_token)
  t.equal(busy.statusCode, 503)
  t.same(busy.json(), { error: 'database_busy', message: 'The database is busy; retry shortly' })
  t.equal(busy.headers['retry-after'], '1')
  writer.exec('ROLLBACK')

  const retried = await refresh(app, tokens.refresh_token)
  t.equal(retried.statusCode, 200, 'the refresh token was not used up by the failed attempt')
  t.equal((await app.inject({ method: 'POST', url: '/auth/register', payload: newUser() })).statusCode, 201)
  t.equal((writer.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok')
})
