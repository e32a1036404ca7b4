import t from 'tap'
import { bearer, Browser, build, decodeJwt, PASSWORD, refresh, register, signedInAdmin, token } from '../../helper.js'

const UA = 'audit-test-agent/1.0'

t.test('every security event is in the audit trail, with its time, user, session, IP and user agent, and no secret', async t => {
  const app = await build(t, { REFRESH_REUSE_GRACE: '0' })
  const admin = await signedInAdmin(app)
  const send = (method: string, url: string, accessToken?: string, payload?: object) => app.inject({
    method: method as 'GET', url, payload, headers: { 'user-agent': UA, ...(accessToken !== undefined && bearer(accessToken)) }
  })

  const user = await register(app)
  const login = (await send('POST', '/auth/token', undefined, { username: user.username, password: PASSWORD })).json()
  const sid = decodeJwt(login.access_token).payload.sid
  await send('POST', '/auth/token', undefined, { username: user.username, password: 'a wrong password typed' })
  await send('POST', '/auth/token', undefined, { username: 'someone-who-does-not-exist', password: 'another secret guess' })
  const browser = new Browser(app)
  await browser.login(user.username)

  // Reuse: rotate, then replay the first token (grace 0).
  await refresh(app, login.refresh_token)
  await new Promise(resolve => setTimeout(resolve, 5))
  await refresh(app, login.refresh_token)

  const second = await token(app, user.username)
  await send('POST', '/auth/password', second.access_token, { currentPassword: PASSWORD, newPassword: 'the new passphrase' })
  const third = await token(app, user.username, 'the new passphrase')
  const fourth = await token(app, user.username, 'the new passphrase')
  await send('DELETE', `/auth/sessions/${decodeJwt(fourth.access_token).payload.sid}`, third.access_token)
  await send('POST', '/auth/logout', third.access_token)
  const fifth = await token(app, user.username, 'the new passphrase')
  await send('POST', '/auth/logout-all', fifth.access_token)

  const a = admin.tokens.access_token
  await send('PATCH', `/admin/users/${user.id}`, a, { roles: ['admin', 'user'] })
  await send('PATCH', `/admin/users/${user.id}`, a, { disabled: true })
  await send('PATCH', `/admin/users/${user.id}`, a, { disabled: false })
  await send('POST', `/admin/users/${user.id}/sessions/revoke`, a)
  await send('DELETE', `/admin/users/${user.id}`, a)

  const rows = await app.store.prisma.auditEvent.findMany({ where: { OR: [{ userId: user.id }, { userId: null }] }, orderBy: { seq: 'asc' } })
  const types = rows.map(r => r.type)
  t.same(types, [
    // (the service's first signing key, created as it started: an event of no user)
    'signing_key_created',
    'user_created', 'login_succeeded', 'login_failed', 'login_failed', 'login_succeeded', 'refresh_reuse_detected',
    'login_succeeded', 'password_changed', 'login_succeeded', 'login_succeeded', 'session_ended', 'logout',
    'login_succeeded', 'logout_all', 'roles_changed', 'user_disabled', 'user_enabled', 'sessions_revoked', 'user_deleted'
  ])
  const byType = (type: string) => rows.filter(r => r.type === type)
  t.match(byType('login_succeeded')[0], { userId: user.id, sessionId: sid, ip: '127.0.0.1', userAgent: UA })
  t.same(JSON.parse(byType('login_succeeded')[0].detail as string), { via: 'api', scope: 'profile', amr: ['pwd'] })
  t.same(JSON.parse(byType('login_succeeded')[1].detail as string), { via: 'browser', scope: 'profile', amr: ['pwd'] })
  t.equal(byType('login_failed')[0].userId, user.id, 'a failed login names the account it was against')
  t.equal(byType('login_failed')[1].userId, null, 'and nothing at all for an unknown one')
  t.match(byType('refresh_reuse_detected')[0], { userId: user.id, sessionId: sid })
  t.match(byType('roles_changed')[0], { actorId: admin.user.id, userId: user.id, userAgent: UA })
  t.same(JSON.parse(byType('roles_changed')[0].detail as string), { from: ['user'], to: ['admin', 'user'] })
  t.ok(rows.every(r => r.at instanceof Date && Date.now() - r.at.getTime() < 60_000))

  const everything = JSON.stringify(await app.store.prisma.auditEvent.findMany())
  for (const secret of [PASSWORD, 'a wrong password typed', 'another secret guess', 'the new passphrase', 'someone-who-does-not-exist',
    login.access_token, login.refresh_token, second.access_token, ...browser.jar.values()]) {
    t.notOk(everything.includes(secret), `no ${secret.slice(0, 14)}… in the audit trail`)
  }
})

t.test('GET /admin/audit: newest first, a page at a time, filtered by user and type', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app)
  const users = [await register(app), await register(app)]
  for (const user of users) for (let i = 0; i < 3; i++) await token(app, user.username)
  const get = async (query: string) => {
    const res = await app.inject({ url: `/admin/audit?${query}`, headers: bearer(admin.tokens.access_token) })
    t.equal(res.statusCode, 200, query)
    return res.json() as { events: Array<{ id: number, type: string, userId: string }>, nextCursor: number | null }
  }

  const ids: number[] = []
  let cursor: number | null = null
  do {
    const page: { events: Array<{ id: number }>, nextCursor: number | null } = await get(`limit=2&userId=${users[0].id}${cursor === null ? '' : `&cursor=${cursor}`}`)
    ids.push(...page.events.map(e => e.id))
    cursor = page.nextCursor
  } while (cursor !== null)
  t.equal(ids.length, 4, 'user_created and three logins')
  t.same(ids, [...ids].sort((x, y) => y - x), 'newest first, each once')

  const logins = await get('type=login_succeeded&limit=100')
  t.equal(logins.events.length, 8, 'the admin\'s two (before and after setting up TOTP) and six more')
  t.ok(logins.events.every(e => e.type === 'login_succeeded'))
  const theirs = await get(`type=login_succeeded&userId=${users[1].id}`)
  t.equal(theirs.events.length, 3)
  t.equal(theirs.nextCursor, null)
  for (const query of ['type=made_up', 'limit=1000', 'cursor=0', 'cursor=abc']) {
    const res = await app.inject({ url: `/admin/audit?${query}`, headers: bearer(admin.tokens.access_token) })
    t.equal(res.statusCode, 400, query)
  }
})


t.test('what the first audit review found missing', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app)
  const user = await register(app)

  const wrongScope = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD, scope: 'users:write' } })
  t.equal(wrongScope.json().error, 'invalid_scope')
  const failed = await app.store.prisma.auditEvent.findFirstOrThrow({ where: { type: 'login_failed', userId: user.id } })
  t.same(JSON.parse(failed.detail as string), { via: 'api', reason: 'invalid_scope' }, 'a right password with a wrong scope is on record')

  const issued = await token(app, user.username)
  await app.inject({ method: 'POST', url: '/auth/revoke', payload: { token: issued.access_token } })
  await app.inject({ method: 'POST', url: '/auth/revoke', payload: { token: issued.refresh_token } })
  const revocations = await app.store.prisma.auditEvent.findMany({ where: { userId: user.id, type: { in: ['token_revoked', 'logout'] } }, orderBy: { seq: 'asc' } })
  t.same(revocations.map(e => e.type), ['token_revoked', 'logout'])
  t.ok(revocations.every(e => e.sessionId === decodeJwt(issued.access_token).payload.sid))

  await app.inject({ method: 'PATCH', url: `/admin/users/${user.id}`, headers: bearer(admin.tokens.access_token), payload: { disabled: true } })
  const disabled = await app.store.prisma.auditEvent.findFirstOrThrow({ where: { type: 'user_disabled' } })
  t.equal(disabled.sessionId, decodeJwt(admin.tokens.access_token).payload.sid, 'an admin action names the admin\'s session')
  t.equal(disabled.actorId, admin.user.id)

  const byActor = await app.inject({ url: `/admin/audit?actorId=${admin.user.id}`, headers: bearer(admin.tokens.access_token) })
  t.same(byActor.json().events.map((e: { type: string }) => e.type), ['user_disabled'])
  for (const cursor of ['1e19', '9223372036854775808', '1e300']) {
    const res = await app.inject({ url: `/admin/audit?cursor=${cursor}`, headers: bearer(admin.tokens.access_token) })
    t.equal(res.statusCode, 400, cursor)
  }
})
