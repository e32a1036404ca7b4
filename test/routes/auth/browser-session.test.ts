// A browser session's life: reload (GET /auth/csrf), silent refresh through the refresh
// cookie, logout that clears the cookies.
import t from 'tap'
import { Browser, bearer, build, decodeJwt, register, statusWith, token } from '../../helper.js'

type Cookie = { name: string, value: string, path?: string, maxAge?: number, httpOnly?: boolean, secure?: boolean, sameSite?: string, expires?: Date }

t.test('GET /auth/csrf: anonymous, then bound to the session the access or the refresh cookie names', async t => {
  const app = await build(t)
  const user = await register(app)
  const browser = new Browser(app)
  const anonymous = await browser.request('GET', '/auth/csrf')
  t.equal(anonymous.json().signedIn, false)
  await browser.login(user.username)

  const reloaded = await browser.request('GET', '/auth/csrf')
  t.equal(reloaded.json().signedIn, true)
  t.equal((await browser.request('POST', '/auth/refresh', { payload: {} })).statusCode, 200, 'the reloaded page\'s token works')

  // The access cookie expired (the browser dropped it): the refresh cookie still names the session.
  browser.jar.delete('__Host-access')
  const fromRefresh = await browser.request('GET', '/auth/csrf')
  t.equal(fromRefresh.json().signedIn, true)
  t.equal((await browser.request('POST', '/auth/refresh', { payload: {} })).statusCode, 200)
  t.ok(browser.jar.get('__Host-access'), 'and the refresh set a new access cookie')
})

t.test('the refresh cookie rotates: both cookies set again, no token in the body', async t => {
  const app = await build(t)
  const user = await register(app)
  const browser = new Browser(app)
  await browser.login(user.username)
  const before = { access: browser.jar.get('__Host-access'), refresh: browser.jar.get('__Secure-refresh') }

  const res = await browser.request('POST', '/auth/refresh', { payload: {} })
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json()).sort(), ['csrfToken', 'expiresAt', 'user'])
  const names = (res.cookies as Cookie[]).map(c => c.name).sort()
  t.same(names, ['__Host-access', '__Secure-refresh'])
  t.not(browser.jar.get('__Host-access'), before.access)
  t.not(browser.jar.get('__Secure-refresh'), before.refresh)
  t.notOk(res.body.includes(browser.jar.get('__Secure-refresh') as string))
  t.equal((await browser.request('GET', '/auth/me')).statusCode, 200)

  const bodiless = await browser.request('POST', '/auth/refresh')
  t.equal(bodiless.statusCode, 200, 'a browser may send no body at all')

  // API mode on the same route: a body token, tokens in the answer, no cookies.
  const api = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: browser.jar.get('__Secure-refresh') } })
  t.equal(api.statusCode, 200)
  t.ok(api.json().access_token)
  t.notOk(api.headers['set-cookie'])
})

t.test('a dead refresh cookie: 400 invalid_grant and the cookies are cleared', async t => {
  const app = await build(t)
  const user = await register(app)
  const browser = new Browser(app)
  await browser.login(user.username)
  await app.store.prisma.session.updateMany({ data: { revokedAt: new Date() } })
  const res = await browser.request('POST', '/auth/refresh', { payload: {} })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_grant')
  t.same((res.cookies as Cookie[]).filter(c => c.maxAge === 0).map(c => c.name).sort(), ['__Host-access', '__Secure-refresh'])
  const none = await new Browser(app).request('POST', '/auth/refresh', { payload: {} })
  t.same(none.json(), { error: 'invalid_grant', message: 'No refresh token was sent' })
})

t.test('logout revokes the session and clears both cookies with their names, paths and attributes', async t => {
  const app = await build(t)
  const user = await register(app)
  const browser = new Browser(app)
  await browser.login(user.username)
  const access = browser.jar.get('__Host-access') as string
  const refresh = browser.jar.get('__Secure-refresh') as string

  const res = await browser.request('POST', '/auth/logout')
  t.equal(res.statusCode, 204)
  const cleared = Object.fromEntries((res.cookies as Cookie[]).map(c => [c.name, c]))
  t.match(cleared['__Host-access'], { value: '', path: '/', maxAge: 0, httpOnly: true, secure: true, sameSite: 'Lax' })
  t.match(cleared['__Secure-refresh'], { value: '', path: '/auth', maxAge: 0, httpOnly: true, secure: true, sameSite: 'Strict' })
  t.ok((cleared['__Host-access'].expires as Date).getTime() <= Date.now())

  t.equal(await statusWith(app, access), 401, 'the access token is dead, not just forgotten')
  const replay = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: refresh } })
  t.equal(replay.statusCode, 400)
  t.ok((await app.store.prisma.session.findUniqueOrThrow({ where: { id: decodeJwt(access).payload.sid } })).revokedAt)
  t.equal((await browser.request('GET', '/auth/me')).statusCode, 401, 'the browser is signed out')
})

t.test('a logout that brings a bearer token ends that token\'s session and leaves the cookies\' alone', async t => {
  const app = await build(t)
  const user = await register(app)
  const browser = new Browser(app)
  await browser.login(user.username)
  const api = await token(app, user.username)

  // The header wins over the cookies: the request is the API client's, and so is the logout.
  const res = await browser.request('POST', '/auth/logout', { headers: bearer(api.access_token) })
  t.equal(res.statusCode, 204)
  t.same(res.cookies, [], 'no cookie cleared')
  t.equal(await statusWith(app, api.access_token), 401, 'the API session ended')
  t.equal((await browser.request('GET', '/auth/me')).statusCode, 200, 'the browser is still signed in')
  const sessions = await app.store.prisma.session.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } })
  t.same(sessions.map(session => session.revokedAt === null), [true, false], 'the browser\'s session lives, the API client\'s ended')
})

// Cookie tossing: a page on a sibling subdomain sets its own __Secure-refresh (its Domain
// covers ours; the prefix does not stop that), holding the attacker's session. The victim's
// browser then sends both, and the first may be the attacker's.
t.test('two cookies of one name: neither is used, so a tossed one cannot sign the victim in as the attacker', async t => {
  const app = await build(t)
  const victim = new Browser(app)
  await victim.login((await register(app)).username)
  const attacker = new Browser(app)
  await attacker.login((await register(app)).username)
  const tossed = attacker.jar.get('__Secure-refresh') as string
  const own = victim.jar.get('__Secure-refresh') as string
  // The victim's access cookie has expired: a reload asks GET /auth/csrf which session the
  // refresh cookie names, then refreshes into it.
  victim.jar.delete('__Host-access')
  const both = `__Secure-refresh=${tossed}; __Host-csrf=${victim.jar.get('__Host-csrf')}; __Secure-refresh=${own}`
  const reload = await app.inject({ url: '/auth/csrf', headers: { cookie: both } })
  t.equal(reload.json().signedIn, false, 'GET /auth/csrf names no session')
  const token = reload.json().csrfToken as string
  const res = await app.inject({ method: 'POST', url: '/auth/refresh', payload: {}, headers: { cookie: both, origin: victim.origin, 'x-csrf-token': token } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_grant')
  t.notOk(res.cookies.some(cookie => cookie.name === '__Host-access' && cookie.value !== ''), 'no access cookie for anyone')
  t.ok(res.cookies.some(cookie => cookie.name === '__Secure-refresh' && cookie.value === ''), 'the refresh cookie is cleared')
  for (const [name, value] of [['spaces', `__Secure-refresh = ${tossed} ;__Secure-refresh=${own}`], ['own first', `__Secure-refresh=${own}; __Secure-refresh=${tossed}`]]) {
    t.equal((await app.inject({ url: '/auth/csrf', headers: { cookie: value } })).json().signedIn, false, name)
  }
  // The victim's own cookie, alone, still works: nothing was used up.
  t.equal((await victim.request('GET', '/auth/csrf')).json().signedIn, true)
  t.equal((await victim.request('POST', '/auth/refresh', { payload: {} })).statusCode, 200, "the victim's own cookie alone still refreshes")
  // Two access cookies: no cookie authentication either.
  const access = victim.jar.get('__Host-access') as string
  t.equal((await app.inject({ url: '/auth/me', headers: { cookie: `__Host-access=${access}` } })).statusCode, 200, 'one access cookie works')
  t.equal((await app.inject({ url: '/auth/me', headers: { cookie: `__Host-access=${access}; __Host-access=${access}` } })).statusCode, 401, 'two do not')
  // A cookie whose name merely ends like ours is another cookie.
  t.equal((await app.inject({ url: '/auth/me', headers: { cookie: `x__Host-access=1; __Host-access=${access}` } })).statusCode, 200)
})
