import t from 'tap'
import { smtpServer } from '../../mail.js'
import { bearer, Browser, build, decodeJwt, newUser, PASSWORD, refresh, register, signedIn, signedInAdmin, statusWith, token, type App } from '../../helper.js'

const as = (app: App, accessToken: string | undefined, method: string, url: string, payload?: object) =>
  app.inject({ method: method as 'GET', url, payload, headers: accessToken === undefined ? {} : bearer(accessToken) })

t.test('every admin route: 401 without a token, 403 with a user token, works with an admin token', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app)
  const user = await signedIn(app)
  const target = await register(app)
  const routes: Array<[string, string, object | undefined, number]> = [
    ['GET', '/admin/users', undefined, 200],
    ['GET', `/admin/users/${target.id}`, undefined, 200],
    ['PATCH', `/admin/users/${target.id}`, { roles: ['user'] }, 200],
    ['POST', `/admin/users/${target.id}/sessions/revoke`, undefined, 200],
    ['GET', '/admin/audit', undefined, 200],
    ['POST', `/admin/users/${target.id}/password-reset`, undefined, 202],
    ['DELETE', `/admin/users/${target.id}`, undefined, 204]
  ]
  for (const [method, url, payload, ok] of routes) {
    t.equal((await as(app, undefined, method, url, payload)).statusCode, 401, `${method} ${url} without a token`)
    const forbidden = await as(app, user.tokens.access_token, method, url, payload)
    t.equal(forbidden.statusCode, 403, `${method} ${url} with a user token`)
    t.equal(forbidden.json().error, 'insufficient_scope')
    t.equal((await as(app, admin.tokens.access_token, method, url, payload)).statusCode, ok, `${method} ${url} with an admin token`)
  }
})

t.test('GET /admin/users: pages with a cursor, filters by prefix, role and disabled', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app, newUser({ username: 'zadmin', email: 'zadmin@example.com' }))
  for (let i = 0; i < 7; i++) await register(app, newUser({ username: `page${i}`, email: `page${i}@corp.example` }))
  await app.store.prisma.user.updateMany({ where: { username: { in: ['page1', 'page4'] } }, data: { disabled: true } })

  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res = await as(app, admin.tokens.access_token, 'GET', `/admin/users?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`)
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.ok(body.users.length <= 3)
    seen.push(...body.users.map((u: { username: string }) => u.username))
    cursor = body.nextCursor
    pages++
  } while (cursor !== null)
  t.equal(pages, 3, '8 users, 3 to a page')
  t.same(seen, ['zadmin', 'page0', 'page1', 'page2', 'page3', 'page4', 'page5', 'page6'], 'each once, oldest first')

  const get = async (query: string) => (await as(app, admin.tokens.access_token, 'GET', `/admin/users?${query}`)).json()
  t.equal((await get('username=PAGE')).users.length, 7, 'prefixes are case-insensitive')
  t.same((await get('email=page3@')).users.map((u: { username: string }) => u.username), ['page3'])
  t.same((await get('role=admin')).users.map((u: { username: string }) => u.username), ['zadmin'])
  t.same((await get('disabled=true')).users.map((u: { username: string }) => u.username), ['page1', 'page4'])
  t.equal((await get('disabled=false&username=page')).users.length, 5)
  const first = (await get('limit=1')).users[0]
  t.same(Object.keys(first).sort(), ['createdAt', 'disabled', 'email', 'emailVerified', 'id', 'roles', 'updatedAt', 'username'])

  for (const query of ['limit=0', 'limit=101', 'limit=ten', 'cursor=garbage', 'role=root', 'disabled=maybe', 'unknown=1']) {
    const res = await as(app, admin.tokens.access_token, 'GET', `/admin/users?${query}`)
    t.equal(res.statusCode, 400, query)
    t.equal(res.json().error, 'invalid_request', query)
  }
})

t.test('GET /admin/users/:id shows the user and their live sessions; an unknown id is a 404', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app)
  const { user, tokens } = await signedIn(app)
  const res = await as(app, admin.tokens.access_token, 'GET', `/admin/users/${user.id}`)
  t.equal(res.statusCode, 200)
  t.match(res.json(), { user: { id: user.id, username: user.username, disabled: false } })
  t.same(res.json().sessions.map((s: { id: string }) => s.id), [decodeJwt(tokens.access_token).payload.sid])
  t.notOk('passwordHash' in res.json().user)
  t.equal((await as(app, admin.tokens.access_token, 'GET', '/admin/users/no-such-user')).statusCode, 404)
})

t.test('disabling a user kills their live token on the next request and refuses their logins', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app)
  const { user, tokens } = await signedIn(app)
  const browser = new Browser(app)
  await browser.login(user.username)
  t.equal(await statusWith(app, tokens.access_token), 200)

  const res = await as(app, admin.tokens.access_token, 'PATCH', `/admin/users/${user.id}`, { disabled: true })
  t.equal(res.statusCode, 200)
  t.equal(res.json().disabled, true)
  t.equal(await statusWith(app, tokens.access_token), 401, 'the bearer token is refused at once')
  t.equal((await browser.request('GET', '/auth/me')).statusCode, 401, 'the browser session too')
  t.equal((await refresh(app, tokens.refresh_token)).statusCode, 400)
  const login = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })
  t.equal(login.json().error, 'invalid_grant', 'login is refused')

  const enabled = await as(app, admin.tokens.access_token, 'PATCH', `/admin/users/${user.id}`, { disabled: false })
  t.equal(enabled.json().disabled, false)
  t.equal((await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })).statusCode, 200)
})

t.test('PATCH validates what it is given', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app)
  const user = await register(app)
  for (const payload of [{}, { roles: ['root'] }, { roles: ['user', 'user'] }, { roles: 'admin' }, { disabled: 'yes' }, { email: 'x@example.com' }]) {
    const res = await as(app, admin.tokens.access_token, 'PATCH', `/admin/users/${user.id}`, payload)
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.equal(res.json().error, 'invalid_request')
  }
  const promoted = await as(app, admin.tokens.access_token, 'PATCH', `/admin/users/${user.id}`, { roles: ['admin', 'user'] })
  t.same(promoted.json().roles, ['admin', 'user'])
  t.equal((await as(app, admin.tokens.access_token, 'PATCH', '/admin/users/nobody', { disabled: true })).statusCode, 404)
})

t.test('the last enabled admin cannot lose the role, be disabled or deleted', async t => {
  const app = await build(t)
  const { user, tokens } = await signedInAdmin(app)
  for (const [method, payload] of [['PATCH', { roles: ['user'] }], ['PATCH', { disabled: true }], ['DELETE', undefined]] as const) {
    const res = await as(app, tokens.access_token, method, `/admin/users/${user.id}`, payload)
    t.equal(res.statusCode, 409, `${method} ${JSON.stringify(payload)}`)
    t.same(res.json(), { error: 'last_admin', message: 'This would leave no enabled admin' })
  }
  const row = await app.store.prisma.user.findUniqueOrThrow({ where: { id: user.id }, include: { roles: true } })
  t.equal(row.disabled, false)
  t.same(row.roles.map(r => r.role).sort(), ['admin', 'user'])

  const second = await signedInAdmin(app)
  t.equal((await as(app, tokens.access_token, 'PATCH', `/admin/users/${user.id}`, { roles: ['user'] })).statusCode, 200, 'with another admin, it may step down')
  t.equal((await as(app, second.tokens.access_token, 'PATCH', `/admin/users/${second.user.id}`, { disabled: true })).statusCode, 409, 'and the other one is now the last')
})

t.test('DELETE removes the user and everything of theirs; their tokens die at once', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app)
  const { user, tokens } = await signedIn(app)
  const res = await as(app, admin.tokens.access_token, 'DELETE', `/admin/users/${user.id}`)
  t.equal(res.statusCode, 204)
  t.equal(await statusWith(app, tokens.access_token), 401)
  t.equal(await app.store.prisma.user.count({ where: { id: user.id } }), 0)
  t.equal(await app.store.prisma.session.count({ where: { userId: user.id } }), 0)
  t.ok(await app.store.prisma.deniedToken.count({ where: { value: decodeJwt(tokens.access_token).payload.sid } }), 'the session id stays denied')
  t.equal((await as(app, admin.tokens.access_token, 'DELETE', `/admin/users/${user.id}`)).statusCode, 404)
})

t.test('POST /admin/users/:id/sessions/revoke ends all of a user\'s sessions', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app)
  const { user, tokens } = await signedIn(app)
  const second = await token(app, user.username)
  const res = await as(app, admin.tokens.access_token, 'POST', `/admin/users/${user.id}/sessions/revoke`)
  t.same(res.json(), { sessionsEnded: 2 })
  t.equal(await statusWith(app, tokens.access_token), 401)
  t.equal(await statusWith(app, second.access_token), 401)
  t.equal((await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })).statusCode, 200, 'the user may log in again')
})

t.test('admin routes by cookie need the CSRF token like any other', async t => {
  const app = await build(t)
  const { user, totp } = await signedInAdmin(app)
  const target = await register(app)
  const browser = new Browser(app)
  await browser.login(user.username, PASSWORD, totp)
  const refused = await browser.request('PATCH', `/admin/users/${target.id}`, { payload: { disabled: true }, csrf: false })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().error, 'csrf_rejected')
  t.equal((await browser.request('PATCH', `/admin/users/${target.id}`, { payload: { disabled: true } })).statusCode, 200)
  t.equal((await browser.request('GET', '/admin/users')).statusCode, 200)
})

t.test('a demoted admin\'s live token loses its admin powers at once; the next refresh carries what is left', async t => {
  const app = await build(t)
  const boss = await signedInAdmin(app)
  const demoted = await signedInAdmin(app)
  const res = await as(app, boss.tokens.access_token, 'PATCH', `/admin/users/${demoted.user.id}`, { roles: ['user'] })
  t.equal(res.statusCode, 200)

  const undo = await as(app, demoted.tokens.access_token, 'PATCH', `/admin/users/${demoted.user.id}`, { roles: ['admin', 'user'] })
  t.equal(undo.statusCode, 401, 'the old token cannot restore the role')
  t.equal((await as(app, demoted.tokens.access_token, 'PATCH', `/admin/users/${boss.user.id}`, { disabled: true })).statusCode, 401)
  const next = await refresh(app, demoted.tokens.refresh_token)
  t.equal(next.statusCode, 200, 'the session lives on')
  t.equal(next.json().scope, 'profile')
  t.equal(await statusWith(app, next.json().access_token, '/auth/me'), 200, 'its new token works at once')
  t.equal((await as(app, next.json().access_token, 'GET', '/admin/users')).statusCode, 403)
  t.same((await app.store.prisma.user.findUniqueOrThrow({ where: { id: demoted.user.id }, include: { roles: true } })).roles.map(r => r.role), ['user'])
})

t.test('a login racing a disable never leaves a live session behind', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app)
  for (let i = 0; i < 8; i++) {
    const user = await register(app)
    const [login] = await Promise.all([
      app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } }),
      as(app, admin.tokens.access_token, 'PATCH', `/admin/users/${user.id}`, { disabled: true })
    ])
    if (login.statusCode === 200) t.equal(await statusWith(app, login.json().access_token), 401, 'a token issued first is revoked')
    else t.equal(login.json().error, 'invalid_grant')
    t.equal(await app.store.prisma.session.count({ where: { userId: user.id, revokedAt: null } }), 0)
  }
})

t.test('roles may not be emptied; prefix filters take _ and % literally', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app, newUser({ username: 'zz_admin', email: 'zz_admin@example.com' }))
  const user = await register(app, newUser({ username: 'zzxadmin', email: 'zzx@example.com' }))
  t.equal((await as(app, admin.tokens.access_token, 'PATCH', `/admin/users/${user.id}`, { roles: [] })).statusCode, 400)
  const list = async (query: string) => (await as(app, admin.tokens.access_token, 'GET', `/admin/users?${query}`)).json().users.map((u: { username: string }) => u.username)
  t.same(await list('username=zz_'), ['zz_admin'])
  t.same(await list('username=%25'), [])
  t.same(await list('email=zz'), ['zz_admin', 'zzxadmin'])
})

t.test('an admin mails a user a reset link, and sees and sets emailVerified', async t => {
  const smtp = await smtpServer(t)
  const app = await build(t, { SMTP_URL: smtp.url, PUBLIC_URL: 'https://auth.example.test' })
  const admin = await signedInAdmin(app)
  const target = await register(app)
  await smtp.mail(target.email)

  const sent = await as(app, admin.tokens.access_token, 'POST', `/admin/users/${target.id}/password-reset`)
  t.equal(sent.statusCode, 202)
  const mail = await smtp.mail(target.email, 2)
  t.equal(mail.subject, 'Reset your password')
  t.equal((await app.inject({ method: 'POST', url: '/auth/password/reset', payload: { token: mail.link!.token, newPassword: 'chosen by the user' } })).statusCode, 204)
  t.ok((await token(app, target.username, 'chosen by the user')).access_token, 'the user set the password; the admin never knew it')
  const event = await app.store.prisma.auditEvent.findFirst({ where: { userId: target.id, type: 'password_reset_requested' } })
  t.equal(event!.actorId, admin.user.id, 'the audit trail names the admin')

  t.equal((await as(app, admin.tokens.access_token, 'POST', '/admin/users/00000000-0000-4000-8000-000000000000/password-reset')).statusCode, 404)
  const other = await register(app)
  await as(app, admin.tokens.access_token, 'PATCH', `/admin/users/${other.id}`, { disabled: true })
  const disabled = await as(app, admin.tokens.access_token, 'POST', `/admin/users/${other.id}/password-reset`)
  t.equal(disabled.statusCode, 400, 'no link for a disabled user: it would not work')

  t.equal((await as(app, admin.tokens.access_token, 'GET', `/admin/users/${other.id}`)).json().user.emailVerified, false)
  const set = await as(app, admin.tokens.access_token, 'PATCH', `/admin/users/${other.id}`, { emailVerified: true })
  t.equal(set.statusCode, 200)
  t.equal(set.json().emailVerified, true)
  const page = await as(app, admin.tokens.access_token, 'GET', '/admin/users?limit=100')
  t.equal(page.json().users.find((u: { id: string }) => u.id === other.id).emailVerified, true, 'the list shows it')
  const audit = await app.store.prisma.auditEvent.findFirst({ where: { userId: other.id, type: 'email_verified_set' } })
  t.same(JSON.parse(audit!.detail!), { emailVerified: true })
})
