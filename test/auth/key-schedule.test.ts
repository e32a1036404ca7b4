// The signing keys' timeline, on a fake clock: publish, activate, retire, go; exactly one key
// signs at any moment; a revoked key does nothing at once.
import t from 'tap'
import { dueKeys, keyStates, signingKey, type Schedule, type ScheduledKey } from '../../src/auth/key-schedule.js'

const MIN = 60_000
const DAY = 24 * 60 * MIN
const schedule: Schedule = { alg: 'ES256', rotationMs: 30 * DAY, cacheMs: 11 * MIN, accessTokenMs: 15 * MIN, clockMarginMs: MIN }
const key = (kid: string, activatesAt: number, more: Partial<ScheduledKey> = {}): ScheduledKey => ({ kid, alg: 'ES256', activatesAt, revokedAt: null, ...more })
const kids = (keys: ScheduledKey[]) => keys.map(k => k.kid)

t.test('no key: one that signs at once', async t => {
  t.same(dueKeys([], 1000, schedule), { create: { alg: 'ES256', activatesAt: 1000 }, drop: [] })
})

t.test('a rotation: published a cache lifetime before it signs, the old key verifying until its last token expired', async t => {
  const t0 = 0
  const a = key('a', t0)
  t.same(dueKeys([a], t0 + 30 * DAY - 11 * MIN - 1, schedule), { drop: [] }, 'not yet due')
  const due = dueKeys([a], t0 + 30 * DAY - 11 * MIN, schedule).create
  t.same(due, { alg: 'ES256', activatesAt: t0 + 30 * DAY }, 'due a cache lifetime before the rotation, to sign a cache lifetime later')

  const b = key('b', due!.activatesAt)
  const keys = [a, b]
  const created = t0 + 30 * DAY - 11 * MIN
  t.same(dueKeys(keys, created, schedule), { drop: [] }, 'one successor waiting: nothing more')
  t.equal(signingKey(keys, created)?.kid, 'a', 'while b waits, a signs')
  t.same(kids(keyStates(keys, created, schedule).published), ['a', 'b'], 'and b is published already')
  t.same(kids(keyStates(keys, created, schedule).verifying), ['a'], 'b verifies nothing it has not signed')

  const switched = b.activatesAt
  t.equal(signingKey(keys, switched - 1)?.kid, 'a')
  t.equal(signingKey(keys, switched)?.kid, 'b', 'then b signs, and only b')
  const lastTokenOfA = switched + 15 * MIN + MIN
  t.same(kids(keyStates(keys, lastTokenOfA - 1, schedule).verifying), ['a', 'b'], 'a verifies the tokens it signed until the last has expired')
  t.same(kids(keyStates(keys, lastTokenOfA, schedule).verifying), ['b'])
  t.same(kids(keyStates(keys, lastTokenOfA + 11 * MIN - 1, schedule).published), ['a', 'b'], 'a stays published a cache lifetime more')
  t.same(kids(keyStates(keys, lastTokenOfA + 11 * MIN, schedule).published), ['b'])
  t.same(kids(keyStates(keys, lastTokenOfA + 11 * MIN, schedule).gone), ['a'], 'then a can go')
})

t.test('exactly one key signs at any moment, the same on every instance', async t => {
  const keys = [key('c', 100), key('b', 100), key('a', 50)]
  for (let now = 0; now < 200; now += 10) {
    const signing = signingKey(keys, now)
    // (two activated at once: the greater kid, on every instance)
    t.equal(signing?.kid, now < 50 ? undefined : now < 100 ? 'a' : 'c', `at ${now}`)
    t.equal(signingKey([...keys].reverse(), now)?.kid, signing?.kid, 'in whatever order the keys are read')
  }
})

t.test('a revoked key neither signs, nor verifies, nor is published, at once', async t => {
  const keys = [key('a', 0, { revokedAt: 10 * MIN }), key('b', 10 * MIN)]
  const now = 10 * MIN
  t.equal(signingKey(keys, now)?.kid, 'b')
  t.same(kids(keyStates(keys, now, schedule).verifying), ['b'])
  t.same(kids(keyStates(keys, now, schedule).published), ['b'])
  t.same(kids(keyStates(keys, now + 16 * MIN, schedule).gone), ['a'], 'its row goes once its tokens would have expired')
  t.same(dueKeys([key('a', 0, { revokedAt: 1 })], 2, schedule).create, { alg: 'ES256', activatesAt: 2 }, 'the only key revoked: a new one at once')
})

t.test('JWT_ALG changed: a key of the new algorithm signs at once; keys of the old one waiting to sign are dropped', async t => {
  const eddsa = { ...schedule, alg: 'EdDSA' as const }
  const keys = [key('a', 0), key('b', 40 * DAY)]
  t.same(dueKeys(keys, 30 * DAY, eddsa), { create: { alg: 'EdDSA', activatesAt: 30 * DAY }, drop: ['b'] })
  const after = [key('a', 0), key('e', 30 * DAY, { alg: 'EdDSA' })]
  t.same(dueKeys(after, 30 * DAY, eddsa), { drop: [] }, 'done once')
  t.same(kids(keyStates(after, 30 * DAY + 5 * MIN, eddsa).verifying), ['a', 'e'], 'tokens of the old key stay good until they expire')
})

t.test('HS256: the secret is the key; never published, never rotated', async t => {
  const hs = { ...schedule, alg: 'HS256' as const }
  const keys = [key('hs', 0, { alg: 'HS256' })]
  t.same(dueKeys(keys, 365 * DAY, hs), { drop: [] })
  t.same(kids(keyStates(keys, DAY, hs).published), [])
  t.same(kids(keyStates(keys, DAY, hs).verifying), ['hs'])
})
