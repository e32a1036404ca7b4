import t from 'tap'
import { bearer, build, decodeJwt, PASSWORD, refresh, signedIn, statusWith, type App } from '../../helper.js'

const login = async (app: App, username: string, userAgent: string) => (await app.inject({
  method: 'POST', url: '/auth/token', headers: { 'user-agent': userAgent }, payload: { username, password: PASSWORD }
})).json()

t.test('GET /auth/sessions lists the user\'s live sessions, and which one is asking', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const phone = await login(app, user.username, 'Phone/1.0')
  const laptop = await login(app, user.username, 'Laptop/2.0')
  await app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(laptop.access_token) })
  await signedIn(app) // someone else's session, never listed

  const res = await app.inject({ url: '/auth/sessions', headers: bearer(phone.access_token) })
  t.equal(res.statusCode, 200)
  const { sessions } = res.json()
  t.equal(sessions.length, 2, 'the ended one is not listed')
  const phoneSid = decodeJwt(phone.access_token).payload.sid
  t.same(sessions.map((s: { id: string }) => s.id).sort(), [phoneSid, decodeJwt(tokens.access_token).payload.sid].sort())
  const mine = sessions.find((s: { id: string }) => s.id === phoneSid)
  t.match(mine, { current: true, userAgent: 'Phone/1.0', ip: '127.0.0.1' })
  t.same(Object.keys(mine).sort(), ['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'userAgent'])
  t.equal(sessions.filter((s: { current: boolean }) => s.current).length, 1)
})

t.test('DELETE /auth/sessions/:id ends one of one\'s own sessions; another user\'s is a 404', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const phone = await login(app, user.username, 'Phone/1.0')
  const stranger = await signedIn(app)
  const phoneSid = decodeJwt(phone.access_token).payload.sid
  const strangerSid = decodeJwt(stranger.tokens.access_token).payload.sid

  const theirs = await app.inject({ method: 'DELETE', url: `/auth/sessions/${strangerSid}`, headers: bearer(tokens.access_token) })
  t.equal(theirs.statusCode, 404)
  t.same(theirs.json(), { error: 'not_found', message: 'No such live session' })
  t.equal(await statusWith(app, stranger.tokens.access_token), 200, 'the other user\'s session is untouched')

  const res = await app.inject({ method: 'DELETE', url: `/auth/sessions/${phoneSid}`, headers: bearer(tokens.access_token) })
  t.equal(res.statusCode, 204)
  t.equal(await statusWith(app, phone.access_token), 401)
  t.equal((await refresh(app, phone.refresh_token)).statusCode, 400)
  t.equal(await statusWith(app, tokens.access_token), 200)

  for (const id of [phoneSid, 'no-such-session']) {
    t.equal((await app.inject({ method: 'DELETE', url: `/auth/sessions/${id}`, headers: bearer(tokens.access_token) })).statusCode, 404, id)
  }
  t.equal((await app.inject({ method: 'DELETE', url: `/auth/sessions/${phoneSid}` })).statusCode, 401)
})

t.test('what a client sends about itself: X-Forwarded-For is not believed, a huge User-Agent is bounded', async t => {
  const app = await build(t)
  const { user } = await signedIn(app)
  const res = await app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { 'x-forwarded-for': '203.0.113.7', 'user-agent': 'U'.repeat(5000) },
    payload: { username: user.username, password: PASSWORD }
  })
  const session = await app.store.prisma.session.findUniqueOrThrow({ where: { id: decodeJwt(res.json().access_token).payload.sid } })
  t.equal(session.ip, '127.0.0.1')
  t.equal(session.userAgent, 'U'.repeat(512))
  const event = await app.store.prisma.auditEvent.findFirstOrThrow({ where: { type: 'login_succeeded', sessionId: session.id } })
  t.equal(event.userAgent, 'U'.repeat(512), 'the audit trail keeps the same bounded user agent')
})
