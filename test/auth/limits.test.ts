// The two counting schemes, on a clock the test moves by hand.
import t from 'tap'
import { createSlidingWindow, createTokenBucket } from '../../src/auth/limits.js'

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
