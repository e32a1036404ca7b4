import t from 'tap'
import { bearer, build, PASSWORD, refresh, signedIn, statusWith, token, type App } from '../../helper.js'

const change = (app: App, accessToken: string, payload: unknown) =>
  app.inject({ method: 'POST', url: '/auth/password', headers: bearer(accessToken), payload: payload as object })

t.test('a password change keeps this session and ends every other one', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const other = await token(app, user.username)
  const newPassword = 'a brand new passphrase'

  const res = await change(app, tokens.access_token, { currentPassword: PASSWORD, newPassword })
  t.equal(res.statusCode, 204)
  t.equal(await statusWith(app, other.access_token), 401, 'the other session\'s access token is refused at once')
  t.equal((await refresh(app, other.refresh_token)).statusCode, 400)
  t.equal(await statusWith(app, tokens.access_token), 200, 'this one goes on')
  t.equal((await refresh(app, tokens.refresh_token)).statusCode, 200)

  const old = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })
  t.equal(old.json().error, 'invalid_grant', 'the old password no longer logs in')
  t.equal((await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: newPassword } })).statusCode, 200)
})

t.test('a wrong current password or a bad new one changes nothing', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const other = await token(app, user.username)
  const hash = (await app.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash

  const wrong = await change(app, tokens.access_token, { currentPassword: 'not my password', newPassword: 'whatever it is now' })
  t.equal(wrong.statusCode, 400)
  t.same(wrong.json(), { error: 'wrong_password', message: 'The current password is wrong' })
  const tooLong = await change(app, tokens.access_token, { currentPassword: PASSWORD, newPassword: 'x'.repeat(73) })
  t.equal(tooLong.json().error, 'invalid_password')
  const tooShort = await change(app, tokens.access_token, { currentPassword: PASSWORD, newPassword: 'short' })
  t.equal(tooShort.json().error, 'invalid_password')
  const extra = await change(app, tokens.access_token, { currentPassword: PASSWORD, newPassword: 'long enough one', user: 'x' })
  t.equal(extra.json().error, 'invalid_request')

  t.equal((await app.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash, hash)
  t.equal(await statusWith(app, other.access_token), 200, 'no session ended')
  t.equal((await app.inject({ method: 'POST', url: '/auth/password', payload: { currentPassword: PASSWORD, newPassword: 'long enough one' } })).statusCode, 401)
})
