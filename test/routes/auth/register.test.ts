import t from 'tap'
import { build, newUser, PASSWORD } from '../../helper.js'

const post = (app: Awaited<ReturnType<typeof build>>, payload: unknown) =>
  app.inject({ method: 'POST', url: '/auth/register', payload: payload as object })

t.test('a new user gets a 201 with the public fields only', async t => {
  const app = await build(t)
  const res = await post(app, { username: 'Alice_1.x-y', email: 'Alice@Example.COM', password: PASSWORD })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['createdAt', 'email', 'emailVerified', 'id', 'roles', 'username'])
  t.match(body, { username: 'alice_1.x-y', email: 'alice@example.com', roles: ['user'] })
  t.match(body.id, /^[0-9a-f-]{36}$/)
  t.ok(Date.parse(body.createdAt) <= Date.now())
  t.notMatch(res.body, /\$2[aby]\$/, 'no bcrypt hash in the reply')

  const row = await app.store.prisma.user.findUniqueOrThrow({ where: { id: body.id }, include: { roles: true } })
  t.equal(row.username, 'alice_1.x-y')
  t.equal(row.email, 'alice@example.com')
  t.match(row.passwordHash, /^\$2b\$04\$/, 'bcrypt at the configured cost')
  t.not(row.passwordHash.includes(PASSWORD), true)
  t.same(row.roles.map(r => r.role), ['user'])
})

t.test('username and email are unique, whatever their case', async t => {
  const app = await build(t)
  t.equal((await post(app, { username: 'bob', email: 'bob@example.com', password: PASSWORD })).statusCode, 201)

  const sameName = await post(app, { username: 'BOB', email: 'other@example.com', password: PASSWORD })
  t.equal(sameName.statusCode, 409)
  t.same(sameName.json(), { error: 'username_taken', message: 'That username is already taken' })

  const sameEmail = await post(app, { username: 'bobby', email: 'Bob@Example.com', password: PASSWORD })
  t.equal(sameEmail.statusCode, 409)
  t.equal(sameEmail.json().error, 'email_taken')
  t.equal(await app.store.prisma.user.count(), 1)
})

t.test('two parallel registrations of one name: one 201, one 409, never a 500', async t => {
  const app = await build(t)
  for (const clash of ['username', 'email'] as const) {
    const a = newUser()
    const b = { ...newUser(), [clash]: a[clash] }
    const replies = await Promise.all([post(app, a), post(app, b)])
    t.same(replies.map(r => r.statusCode).sort(), [201, 409], `clash on ${clash}`)
    t.equal(replies.find(r => r.statusCode === 409)?.json().error, `${clash}_taken`)
  }
  t.equal(await app.store.prisma.user.count(), 2)
})

t.test('invalid input is a 400 invalid_request and nothing is stored', async t => {
  const app = await build(t)
  const valid = { username: 'carol', email: 'carol@example.com', password: PASSWORD }
  const cases: Array<[string, unknown]> = [
    ['username too short', { ...valid, username: 'ab' }],
    ['username too long', { ...valid, username: 'a'.repeat(33) }],
    ['username with a space', { ...valid, username: 'car ol' }],
    ['username with an @', { ...valid, username: 'car@ol' }],
    ['username not ASCII', { ...valid, username: 'carölé' }],
    ['email malformed', { ...valid, email: 'carol' }],
    ['email with spaces', { ...valid, email: ' carol@example.com' }],
    ['password as a number is not coerced', { ...valid, password: 12345678 }],
    ['username as a number', { ...valid, username: 12345 }],
    ['password missing', { username: valid.username, email: valid.email }],
    ['password null', { ...valid, password: null }],
    ['unknown field', { ...valid, nickname: 'c' }],
    ['roles cannot be chosen', { ...valid, roles: ['admin'] }],
    ['body is an array', [valid]]
  ]
  for (const [name, payload] of cases) {
    const res = await post(app, payload)
    t.equal(res.statusCode, 400, name)
    t.equal(res.json().error, 'invalid_request', name)
    t.type(res.json().message, 'string', name)
  }
  t.equal(await app.store.prisma.user.count(), 0)
})

t.test('passwords: at least 8 characters, at most 72 bytes, never truncated', async t => {
  const app = await build(t)
  const short = await post(app, newUser({ password: 'seven77' }))
  t.equal(short.statusCode, 400)
  t.same(short.json(), { error: 'invalid_password', message: 'password must be at least 8 characters' })

  // 8 characters of 2 bytes each: long enough, counted in characters.
  t.equal((await post(app, newUser({ password: 'éééééééé' }))).statusCode, 201)
  t.equal((await post(app, newUser({ password: 'p'.repeat(72) }))).statusCode, 201, '72 bytes is fine')

  const long = await post(app, newUser({ password: 'p'.repeat(73) }))
  t.equal(long.statusCode, 400)
  t.equal(long.json().error, 'invalid_password')
  t.match(long.json().message, /at most 72 bytes.*this one is 73/)

  // 40 characters, but 80 bytes: bcrypt would have silently ignored the last 8.
  const wide = await post(app, newUser({ password: 'é'.repeat(40) }))
  t.equal(wide.statusCode, 400)
  t.match(wide.json().message, /this one is 80/)
  t.equal(await app.store.prisma.user.count(), 2)
})

t.test('only JSON bodies are read: other types are a 415, broken JSON a 400', async t => {
  const app = await build(t)
  const user = newUser()
  const send = (contentType: string, payload: string) =>
    app.inject({ method: 'POST', url: '/auth/register', headers: { 'content-type': contentType }, payload })

  for (const [contentType, payload] of [
    ['text/plain', JSON.stringify(user)],
    ['application/x-www-form-urlencoded', new URLSearchParams(user).toString()],
    ['multipart/form-data; boundary=x', '--x--']
  ]) {
    const res = await send(contentType, payload)
    t.equal(res.statusCode, 415, contentType)
    t.equal(res.json().error, 'unsupported_media_type', contentType)
  }
  for (const [name, payload] of [['truncated', '{"username": "x"'], ['empty', ''], ['a bare string', '"carol"']]) {
    const res = await send('application/json', payload)
    t.equal(res.statusCode, 400, name)
    t.equal(res.json().error, 'invalid_request', name)
  }
  t.equal(await app.store.prisma.user.count(), 0)
})
