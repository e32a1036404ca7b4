import t from 'tap'
import { bearer, build, decodeJwt, refresh, signedIn, statusWith, token } from '../../helper.js'

t.test('logout ends this session at once: the same access token is refused on the very next request', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const otherDevice = await token(app, user.username)
  const { sid, jti } = decodeJwt(tokens.access_token).payload

  const res = await app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(tokens.access_token) })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  t.equal(await statusWith(app, tokens.access_token), 401)
  t.equal((await refresh(app, tokens.refresh_token)).statusCode, 400, 'its refresh token is dead')
  t.equal(await statusWith(app, otherDevice.access_token), 200, 'another session of the same user lives on')

  t.ok((await app.store.prisma.session.findUniqueOrThrow({ where: { id: sid } })).revokedAt)
  const denied = await app.store.prisma.deniedToken.findMany({ orderBy: { kind: 'asc' } })
  t.same(denied.map(d => [d.kind, d.value]), [['jti', jti], ['sid', sid]])
  const exp = decodeJwt(tokens.access_token).payload.exp * 1000
  t.ok(denied[0].expiresAt.getTime() >= exp, 'kept until the token would have expired')

  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(tokens.access_token) })).statusCode, 401,
    'a second logout with the dead token is a 401')
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout' })).statusCode, 401)
})

t.test('logout-all ends every session of the user, and only theirs', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const second = await token(app, user.username)
  const stranger = await signedIn(app)

  const res = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(second.access_token) })
  t.equal(res.statusCode, 204)
  for (const issued of [tokens, second]) {
    t.equal(await statusWith(app, issued.access_token), 401)
    t.equal((await refresh(app, issued.refresh_token)).statusCode, 400)
  }
  t.equal(await app.store.prisma.session.count({ where: { userId: user.id, revokedAt: null } }), 0)
  t.equal(await statusWith(app, stranger.tokens.access_token), 200)
  t.equal((await refresh(app, stranger.tokens.refresh_token)).statusCode, 200)
})
