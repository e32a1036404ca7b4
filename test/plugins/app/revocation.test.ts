import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { bearer, build, decodeJwt, refresh, signedIn, signedInAdmin, statusWith, tempDir } from '../../helper.js'

t.test('revocations survive a restart: a new process refuses the token from its first request', async t => {
  const dir = tempDir(t)
  const first = await build(t, {}, { dir })
  const { tokens } = await signedIn(first)
  await first.inject({ method: 'POST', url: '/auth/logout', headers: bearer(tokens.access_token) })
  await first.close()

  const second = await build(t, {}, { dir })
  t.equal(await statusWith(second, tokens.access_token), 401)
  t.equal((await refresh(second, tokens.refresh_token)).statusCode, 400)
})

t.test('a demotion survives a restart: the tokens issued before it are refused, the next ones accepted', async t => {
  const dir = tempDir(t)
  const first = await build(t, {}, { dir })
  const boss = await signedInAdmin(first)
  const demoted = await signedInAdmin(first)
  const patch = await first.inject({ method: 'PATCH', url: `/admin/users/${demoted.user.id}`, payload: { roles: ['user'] }, headers: bearer(boss.tokens.access_token) })
  t.equal(patch.statusCode, 200)
  await first.close()

  const second = await build(t, {}, { dir })
  t.equal(await statusWith(second, demoted.tokens.access_token, '/auth/me'), 401, 'the token from before the demotion')
  t.equal(await statusWith(second, boss.tokens.access_token, '/auth/me'), 200, 'another user\'s token')
  const next = await refresh(second, demoted.tokens.refresh_token)
  t.equal(next.statusCode, 200)
  t.equal(await statusWith(second, next.json().access_token, '/auth/me'), 200, 'the token from after it')
})

t.test('a second instance on the same database refuses a token the first revoked, within about a second', async t => {
  const dir = tempDir(t)
  const a = await build(t, {}, { dir })
  const b = await build(t, {}, { dir })
  const { tokens } = await signedIn(a)
  const other = await signedIn(a)
  t.equal(await statusWith(b, tokens.access_token), 200, 'b accepts what a issued')

  await a.inject({ method: 'POST', url: '/auth/logout', headers: bearer(tokens.access_token) })
  t.equal(await statusWith(a, tokens.access_token), 401, 'a refuses it at once')
  const revokedAt = Date.now()
  let status = 200
  while (status === 200 && Date.now() - revokedAt < 5000) {
    await sleep(50)
    status = await statusWith(b, tokens.access_token)
  }
  t.equal(status, 401, 'b refuses it after its next sync')
  t.ok(Date.now() - revokedAt < 2500, `b took ${Date.now() - revokedAt} ms (sync runs every second)`)
  t.equal(await statusWith(b, other.tokens.access_token), 200, 'and still accepts the others')
})

t.test('purge removes what has expired and keeps what still covers a live token', async t => {
  const app = await build(t)
  const live = await signedIn(app)
  const gone = await signedIn(app)
  const past = new Date(Date.now() - 1000)
  const liveSid = decodeJwt(live.tokens.access_token).payload.sid
  const goneSid = decodeJwt(gone.tokens.access_token).payload.sid

  await app.store.prisma.deniedToken.createMany({
    data: [
      { kind: 'jti', value: 'expired-jti', expiresAt: past },
      { kind: 'jti', value: 'live-jti', expiresAt: new Date(Date.now() + 60_000) }
    ]
  })
  // A session revoked longer ago than the access TTL can have no live access token left.
  await app.store.prisma.session.update({ where: { id: goneSid }, data: { revokedAt: new Date(Date.now() - 901_000) } })
  await app.store.prisma.refreshToken.create({ data: { hash: 'expired-hash', sessionId: liveSid, expiresAt: past } })

  const removed = await app.revocation.purge()
  t.equal(removed, 3, 'one denylist entry, one refresh token, one session (its own refresh token goes by cascade)')
  t.equal(await app.store.prisma.refreshToken.count({ where: { sessionId: goneSid } }), 0)
  t.same((await app.store.prisma.deniedToken.findMany()).map(d => d.value), ['live-jti'])
  t.equal(await app.store.prisma.session.count({ where: { id: goneSid } }), 0)
  t.equal(await app.store.prisma.refreshToken.count({ where: { hash: 'expired-hash' } }), 0)
  t.equal(await statusWith(app, live.tokens.access_token), 200)
  t.equal((await refresh(app, live.tokens.refresh_token)).statusCode, 200)
})
