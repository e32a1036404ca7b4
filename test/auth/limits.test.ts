// The counting schemes, on a clock the test moves by hand.
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { createSharedWindow, createSlidingWindow, createTokenBucket } from '../../src/auth/limits.js'
import { createStore } from '../../src/store/index.js'
import { onPostgres, tempDir } from '../helper.js'
import { postgresDatabase } from '../postgres.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

t.test('sliding window: any hour holds at most the limit; each slot frees an hour after it was taken', async t => {
  const window = createSlidingWindow({ limit: 3, windowMs: HOUR })
  const t0 = 1_000_000_000
  for (const at of [0, 20, 40]) t.ok(window.take('k', t0 + at * MINUTE).ok, `slot at +${at} min`)
  t.same(window.take('k', t0 + 59 * MINUTE), { ok: false, retryAfter: 60 }, 'full: the first slot frees in a minute')
  t.same(window.take('other', t0 + 59 * MINUTE).ok, true, 'other keys count apart')
  t.ok(window.take('k', t0 + 60 * MINUTE + 1).ok, 'an hour after the first, one slot is free again')
  t.same(window.take('k', t0 + 61 * MINUTE), { ok: false, retryAfter: 19 * 60 }, 'and the next frees an hour after the second')
  for (let i = 0; i < 3; i++) t.ok(window.take('k', t0 + 200 * MINUTE).ok, 'all free again after an hour of quiet')
  t.notOk(window.take('k', t0 + 200 * MINUTE).ok, 'and no more than the limit')
})

t.test('sliding window: a slot is taken at once and a release gives exactly it back', async t => {
  const window = createSlidingWindow({ limit: 2, windowMs: HOUR })
  const now = 5_000
  const first = window.take('k', now)
  const second = window.take('k', now)
  t.ok(first.ok && second.ok)
  t.notOk(window.take('k', now).ok, 'two taken, none left, before either is released')
  if (!first.ok) throw new Error('unreachable')
  first.release()
  first.release()
  t.ok(window.take('k', now).ok, 'the released slot is free')
  t.notOk(window.take('k', now).ok, 'released once, whatever the calls: one slot back, not two')
})

t.test('token bucket: the limit at once, then refilled at the limit per window', async t => {
  const bucket = createTokenBucket({ limit: 30, windowMs: MINUTE })
  const t0 = 10_000_000
  for (let i = 0; i < 30; i++) t.ok(bucket.take('s', t0).ok)
  t.same(bucket.take('s', t0), { ok: false, retryAfter: 2 }, 'one more in 2 s')
  t.same(bucket.take('s', t0 + 1000), { ok: false, retryAfter: 1 })
  t.ok(bucket.take('s', t0 + 2000).ok, 'refilled')
  t.notOk(bucket.take('s', t0 + 2000).ok)
  t.ok(bucket.take('other', t0).ok, 'per key')
  for (let i = 0; i < 30; i++) t.ok(bucket.take('s', t0 + 10 * MINUTE).ok, 'full again after a quiet while, and no fuller')
  t.notOk(bucket.take('s', t0 + 10 * MINUTE).ok)
})

// The same policy counted in the store (PostgreSQL's instances share it): on the engine of this
// run, a real database.
async function sharedWindow (t: Test, limit: number) {
  const url = onPostgres ? await postgresDatabase() : `file:${join(tempDir(t), 'auth.db')}`
  const store = createStore(url)
  t.teardown(() => store.close())
  await store.ready()
  return { store, window: createSharedWindow(store, { limit, windowMs: HOUR }) }
}

t.test('shared window: the same hour, the same release, counted in the database', async t => {
  const { store, window } = await sharedWindow(t, 3)
  const t0 = 1_000_000_000
  for (const at of [0, 20, 40]) t.ok((await window.take('k', t0 + at * MINUTE)).ok, `slot at +${at} min`)
  t.same(await window.take('k', t0 + 59 * MINUTE), { ok: false, retryAfter: 60 }, 'full: the first slot frees in a minute')
  t.ok((await window.take('other', t0 + 59 * MINUTE)).ok, 'other keys count apart')
  const freed = await window.take('k', t0 + 60 * MINUTE + 1)
  t.ok(freed.ok, 'an hour after the first, one slot is free again')
  if (!freed.ok) throw new Error('unreachable')
  await freed.release()
  await freed.release()
  t.ok((await window.take('k', t0 + 60 * MINUTE + 2)).ok, 'a released slot is free, once')
  t.notOk((await window.take('k', t0 + 60 * MINUTE + 3)).ok)
  t.equal(await store.prisma.passwordAttempt.count({ where: { key: 'k' } }), 4, 'a row per slot taken and kept')
  t.equal(await store.attempts.purge(new Date(t0 + 30 * MINUTE), new Date(0)), 2, 'the purge takes what no window counts')
})

t.test('shared window: concurrent attempts cannot all pass one check', async t => {
  const { store, window } = await sharedWindow(t, 5)
  const now = Date.now()
  const slots = await Promise.all(Array.from({ length: 20 }, () => window.take('raced', now)))
  t.equal(slots.filter(slot => slot.ok).length, 5, 'exactly the limit')
  t.equal(await store.prisma.passwordAttempt.count({ where: { key: 'raced' } }), 5)
})
