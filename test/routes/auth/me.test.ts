import t from 'tap'
import { bearer, build, decodeJwt, register, token } from '../../helper.js'

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
  const session = await app.prisma.session.findUniqueOrThrow({ where: { id: sid } })
  t.equal(body.session.createdAt, session.createdAt.toISOString())
  t.equal(body.session.expiresAt, session.expiresAt.toISOString())
  t.ok(Date.parse(body.session.expiresAt) - Date.now() > 89 * 24 * 3600 * 1000, 'SESSION_TTL defaults to 90 days')
})

t.test('a signed token whose account is gone or disabled is refused', async t => {
  const app = await build(t)
  const gone = await register(app)
  const goneToken = await token(app, gone.username)
  await app.prisma.user.delete({ where: { id: gone.id } })
  const res = await app.inject({ url: '/auth/me', headers: bearer(goneToken.access_token) })
  t.equal(res.statusCode, 401)
  t.equal(res.json().error, 'invalid_token')
  t.match(res.headers['www-authenticate'], /^Bearer realm="authd", error="invalid_token"/)

  const disabled = await register(app)
  const disabledToken = await token(app, disabled.username)
  await app.prisma.user.update({ where: { id: disabled.id }, data: { disabled: true } })
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(disabledToken.access_token) })).statusCode, 401)
})
