import t from 'tap'
import { bearer, build, claims, decodeJwt, forge, register, token } from '../../helper.js'

t.test('GET /auth/me: the user, the token\'s scopes and its session', async t => {
  const app = await build(t)
  const user = await register(app)
  const issued = await token(app, user.email)
  const res = await app.inject({ url: '/auth/me', headers: bearer(issued.access_token) })
  t.equal(res.statusCode, 200)
  const body = res.json()
  const sid = decodeJwt(issued.access_token).payload.sid
  t.match(body, { user: { id: user.id, username: user.username, email: user.email, roles: ['user'] }, scopes: ['profile'], session: { id: sid } })
  t.notOk('passwordHash' in body.user)
  const session = await app.store.prisma.session.findUniqueOrThrow({ where: { id: sid } })
  t.equal(body.session.createdAt, session.createdAt.toISOString())
  t.equal(body.session.expiresAt, session.expiresAt.toISOString())
})

t.test('the session lasts SESSION_TTL from the login', async t => {
  for (const [env, seconds] of [[{}, 90 * 24 * 3600], [{ SESSION_TTL: '3600' }, 3600]] as const) {
    const app = await build(t, env)
    const user = await register(app)
    const before = Date.now()
    const issued = await token(app, user.username)
    const after = Date.now()
    const body = (await app.inject({ url: '/auth/me', headers: bearer(issued.access_token) })).json()
    const expiresAt = Date.parse(body.session.expiresAt)
    t.ok(expiresAt >= before + seconds * 1000 && expiresAt <= after + seconds * 1000, `SESSION_TTL ${seconds}`)
  }
})

t.test('a signed token whose account is gone or disabled is refused', async t => {
  const app = await build(t)
  const gone = await register(app)
  const goneToken = await token(app, gone.username)
  await app.store.prisma.user.delete({ where: { id: gone.id } })
  const res = await app.inject({ url: '/auth/me', headers: bearer(goneToken.access_token) })
  t.equal(res.statusCode, 401)
  t.equal(res.json().error, 'invalid_token')
  t.match(res.headers['www-authenticate'], /^Bearer realm="authd", error="invalid_token"/)

  const other = await register(app)
  const otherToken = await token(app, other.username)
  await app.store.prisma.session.update({ where: { id: decodeJwt(otherToken.access_token).payload.sid }, data: { expiresAt: new Date(Date.now() - 1000) } })
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(otherToken.access_token) })).statusCode, 401, 'the session has ended')

  const disabled = await register(app)
  const disabledToken = await token(app, disabled.username)
  await app.store.prisma.user.update({ where: { id: disabled.id }, data: { disabled: true } })
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(disabledToken.access_token) })).statusCode, 401)
})

t.test('a token naming another user\'s session is refused', async t => {
  // (HS256, so that the forged token is signed with the key that verifies it: the mismatch alone is refused)
  const app = await build(t, { JWT_ALG: 'HS256' })
  const alice = await register(app)
  const bob = await register(app)
  const bobSid = decodeJwt((await token(app, bob.username)).access_token).payload.sid
  const mixed = forge({ alg: 'HS256', typ: 'at+jwt' }, claims({ sub: alice.id, sid: bobSid }))
  const res = await app.inject({ url: '/auth/me', headers: bearer(mixed) })
  t.equal(res.statusCode, 401)
  t.equal(res.json().error, 'invalid_token')
})
