import t from 'tap'
import bcrypt from 'bcryptjs'
import { bearer, build, newUser, PASSWORD, register, signedIn, tempDir } from '../../helper.js'
import { dummyHash } from '../../../src/auth/passwords.js'

t.test('the dummy hash for unknown users costs a full bcrypt computation at the configured cost', async t => {
  for (const rounds of [4, 12]) {
    const hash = dummyHash(rounds)
    t.equal(hash.length, 60)
    t.equal(bcrypt.getRounds(hash), rounds)
  }
  // bcryptjs reports progress only while it actually computes; a malformed hash returns at once.
  const progress = async (hash: string) => {
    let calls = 0
    await bcrypt.compare(PASSWORD, hash, undefined, () => { calls++ })
    return calls
  }
  t.ok(await progress(dummyHash(8)) > 0, 'the dummy hash is computed')
  t.equal(await progress('$2b$08$not-a-real-hash'), 0, 'the control: a malformed one is not')

  const app = await build(t)
  t.equal(await app.passwords.verify(PASSWORD, null), false, 'no hash never matches')
})

t.test('hashing runs off the event loop: bcryptjs on the main thread is never called', async t => {
  const app = await build(t)
  const user = await register(app)
  // Worker threads load their own copy of bcryptjs; this one is the main thread's.
  const names = ['hash', 'hashSync', 'compare', 'compareSync'] as const
  const saved = names.map(name => bcrypt[name])
  const mutable = bcrypt as unknown as Record<string, unknown>
  for (const name of names) mutable[name] = () => { throw new Error(`bcrypt.${name} ran on the main thread`) }
  t.teardown(() => { names.forEach((name, i) => { mutable[name] = saved[i] }) })

  t.equal((await app.inject({ method: 'POST', url: '/auth/register', payload: newUser() })).statusCode, 201)
  const login = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })
  t.equal(login.statusCode, 200)
})

t.test('an unknown user costs a bcrypt computation on the pool like any other', async t => {
  // One worker, 8 queued: if unknown users skipped bcrypt, all 20 would get their 400. Cost 12
  // keeps the first hash running while all 20 arrive, even on PostgreSQL, where each login
  // reads the database before it queues, on a loaded machine.
  const app = await build(t, { BCRYPT_ROUNDS: '12', PASSWORD_WORKERS: '1' })
  const burst = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    app.inject({ method: 'POST', url: '/auth/token', payload: { username: `nobody${i}`, password: PASSWORD } })))
  t.same(burst.map(r => r.statusCode).sort(), [...Array(9).fill(400), ...Array(11).fill(503)])
})

t.test('past the bounded queue, logins get a 503 with Retry-After, never a 500', async t => {
  // One worker, so 1 running + 8 queued; cost 12 keeps them busy while the burst arrives (at
  // cost 10, a loaded machine on PostgreSQL once let a hash finish before the last login queued).
  const app = await build(t, { BCRYPT_ROUNDS: '12', PASSWORD_WORKERS: '1' })
  const user = await register(app, newUser())
  const burst = await Promise.all(Array.from({ length: 20 }, () =>
    app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })))
  const statuses = burst.map(r => r.statusCode)
  const refused = burst.filter(r => r.statusCode === 503)
  t.ok(refused.length >= 11, `${refused.length} refused`)
  t.equal(statuses.filter(s => s === 200).length + refused.length, 20, 'each one a 200 or a 503')
  for (const res of refused) {
    t.equal(res.headers['retry-after'], '1')
    t.same(res.json(), { error: 'overloaded', error_description: 'The service is busy; retry shortly' })
  }
  t.equal((await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })).statusCode, 200,
    'once the burst is over, logins work again')
})

t.test('the 10,000 most common passwords are refused, at registration and at a password change', async t => {
  const app = await build(t)
  for (const password of ['password', 'PassWord', '12345678', 'qwertyuiop', 'iloveyou']) {
    const res = await app.inject({ method: 'POST', url: '/auth/register', payload: newUser({ password }) })
    t.equal(res.statusCode, 400, password)
    t.same(res.json(), { error: 'invalid_password', message: 'password is one of the 10,000 most common; choose another' })
  }
  const { tokens } = await signedIn(app)
  const change = await app.inject({ method: 'POST', url: '/auth/password', headers: bearer(tokens.access_token), payload: { currentPassword: PASSWORD, newPassword: 'baseball' } })
  t.equal(change.json().error, 'invalid_password')
  t.equal((await app.inject({ method: 'POST', url: '/auth/register', payload: newUser({ password: 'a less common passphrase' }) })).statusCode, 201)
})

t.test('a hash made at a lower cost is upgraded at the next successful login', async t => {
  const dir = tempDir(t)
  const before = await build(t, { BCRYPT_ROUNDS: '4' }, { dir })
  const user = await register(before)
  await before.close()

  const after = await build(t, { BCRYPT_ROUNDS: '5' }, { dir })
  const hash = async () => (await after.store.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash
  t.match(await hash(), /^\$2b\$04\$/)
  t.equal((await after.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: 'wrong password' } })).statusCode, 400)
  t.match(await hash(), /^\$2b\$04\$/, 'not on a failed one')
  t.equal((await after.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })).statusCode, 200)
  t.match(await hash(), /^\$2b\$05\$/, 'upgraded')
  t.equal((await after.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })).statusCode, 200, 'and still good')
})

t.test('a flood of logins does not starve /health or authenticated requests', async t => {
  const app = await build(t, { BCRYPT_ROUNDS: '10', PASSWORD_WORKERS: '1' })
  const { user, tokens } = await signedIn(app)
  const order: string[] = []
  const flood = Promise.all(Array.from({ length: 30 }, () =>
    app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })))
    .then(replies => { order.push('flood'); return replies })
  await new Promise(resolve => setImmediate(resolve))
  for (let i = 0; i < 5; i++) {
    t.equal((await app.inject('/health')).statusCode, 200)
    t.equal((await app.inject({ url: '/secure-data', headers: bearer(tokens.access_token) })).statusCode, 200)
    order.push('served')
  }
  const replies = await flood
  t.same(order, ['served', 'served', 'served', 'served', 'served', 'flood'], 'answered while the logins waited for bcrypt')
  t.same([...new Set(replies.map(r => r.statusCode))].sort(), [200, 503], 'beyond the bounded queue: 503, not a backlog')
})
