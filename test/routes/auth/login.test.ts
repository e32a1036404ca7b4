// Browser mode: cookies, their every attribute, and the CSRF defence of the login itself.
import t from 'tap'
import { Browser, build, PASSWORD, register, ORIGIN } from '../../helper.js'

type Cookie = { name: string, value: string, path?: string, maxAge?: number, httpOnly?: boolean, secure?: boolean, sameSite?: string, domain?: string, expires?: Date }

t.test('login sets the two session cookies with every attribute, and answers without a token', async t => {
  const app = await build(t)
  const user = await register(app)
  const browser = new Browser(app)
  const res = await browser.login(user.username)
  const cookies = Object.fromEntries((res.cookies as Cookie[]).map(c => [c.name, c]))

  t.match(cookies['__Host-access'], { path: '/', maxAge: 900, httpOnly: true, secure: true, sameSite: 'Lax' })
  t.notOk(cookies['__Host-access'].domain, '__Host- cookies have no Domain')
  t.match(cookies['__Secure-refresh'], { path: '/auth', httpOnly: true, secure: true, sameSite: 'Strict' })
  t.ok((cookies['__Secure-refresh'].maxAge ?? 0) <= 30 * 24 * 3600 && (cookies['__Secure-refresh'].maxAge ?? 0) > 29 * 24 * 3600)
  t.match(cookies['__Host-csrf'], { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' })

  const body = res.json()
  t.same(Object.keys(body).sort(), ['csrfToken', 'expiresAt', 'user'])
  t.match(body.user, { id: user.id, username: user.username })
  t.ok(Math.abs(Date.parse(body.expiresAt) - (Date.now() + 900_000)) < 5000)
  t.notOk(res.body.includes(cookies['__Host-access'].value) || res.body.includes(cookies['__Secure-refresh'].value), 'no token in the body')
  t.equal(res.headers['cache-control'], 'no-store')

  const me = await browser.request('GET', '/auth/me')
  t.equal(me.statusCode, 200, 'the access cookie authenticates')
  t.equal(me.json().user.id, user.id)
})

t.test('bad credentials: 401, the same reply for an unknown user and a wrong password, no session cookie', async t => {
  const app = await build(t)
  const user = await register(app)
  const replies = []
  for (const [username, password] of [[user.username, 'wrong password'], ['nobody', PASSWORD]]) {
    const browser = new Browser(app)
    await browser.request('GET', '/auth/csrf')
    const res = await browser.request('POST', '/auth/login', { payload: { username, password } })
    t.equal(res.statusCode, 401)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="authd"')
    t.notOk((res.cookies as Cookie[]).some(c => c.name !== '__Host-csrf'), 'no session cookie')
    replies.push(res.body)
  }
  t.equal(replies[0], replies[1])
  t.same(JSON.parse(replies[0]), { error: 'invalid_credentials', message: 'Invalid username or password' })
  t.equal(await app.store.prisma.session.count(), 0)
})

t.test('login CSRF: the login needs an allowed origin and a token from the same browser', async t => {
  const app = await build(t, { CORS_ORIGINS: 'https://app.example.com' })
  const user = await register(app)
  const payload = { username: user.username, password: PASSWORD }
  const attacker = new Browser(app)
  await attacker.request('GET', '/auth/csrf')

  const attempts: Array<[string, (b: Browser) => Promise<{ statusCode: number, json: () => any }>]> = [
    ['no CSRF token', b => b.request('POST', '/auth/login', { payload, csrf: false })],
    ['a token from another browser', b => b.request('POST', '/auth/login', { payload, headers: { 'x-csrf-token': attacker.csrfToken as string } })],
    ['a cross-site origin', b => b.request('POST', '/auth/login', { payload, headers: { origin: 'https://evil.example' } })],
    ['Origin null', b => b.request('POST', '/auth/login', { payload, headers: { origin: 'null' } })],
    ['no Origin, Sec-Fetch-Site cross-site', b => app.inject({ method: 'POST', url: '/auth/login', payload, headers: { cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': b.csrfToken as string, 'sec-fetch-site': 'cross-site' } })],
    ['no Origin, Sec-Fetch-Site same-site (another port)', b => app.inject({ method: 'POST', url: '/auth/login', payload, headers: { cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': b.csrfToken as string, 'sec-fetch-site': 'same-site' } })],
    ['neither Origin nor Sec-Fetch-Site', b => app.inject({ method: 'POST', url: '/auth/login', payload, headers: { cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': b.csrfToken as string } })]
  ]
  for (const [name, attempt] of attempts) {
    const victim = new Browser(app)
    await victim.request('GET', '/auth/csrf')
    const res = await attempt(victim)
    t.equal(res.statusCode, 403, name)
    t.equal(res.json().error, 'csrf_rejected', name)
  }
  t.equal(await app.store.prisma.session.count(), 0, 'no session was opened')

  const sameOriginNoHeader = new Browser(app)
  await sameOriginNoHeader.request('GET', '/auth/csrf')
  const viaFetchSite = await app.inject({ method: 'POST', url: '/auth/login', payload, headers: { cookie: [...sameOriginNoHeader.jar].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': sameOriginNoHeader.csrfToken as string, 'sec-fetch-site': 'same-origin' } })
  t.equal(viaFetchSite.statusCode, 200, 'without Origin, Sec-Fetch-Site: same-origin is enough')
  const fromAllowed = new Browser(app, 'https://app.example.com')
  t.equal((await fromAllowed.login(user.username)).statusCode, 200, 'an origin of CORS_ORIGINS may log in')
})

t.test('a login form body works too, and the login rotates the CSRF secret', async t => {
  const app = await build(t)
  const user = await register(app)
  const browser = new Browser(app)
  await browser.request('GET', '/auth/csrf')
  const before = browser.jar.get('__Host-csrf')
  const res = await browser.request('POST', '/auth/login', {
    payload: new URLSearchParams({ username: user.username, password: PASSWORD }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' }
  })
  t.equal(res.statusCode, 200)
  t.not(browser.jar.get('__Host-csrf'), before)
})

t.test('COOKIE_SECURE=false: plain names, no Secure, and a warning at start', async t => {
  const lines: string[] = []
  const { Writable } = await import('node:stream')
  const logStream = new Writable({ write (chunk, _e, done) { lines.push(String(chunk)); done() } })
  const app = await build(t, { COOKIE_SECURE: 'false', LOG_LEVEL: 'warn' }, { logStream })
  const user = await register(app)
  const res = await new Browser(app).login(user.username)
  const cookies = res.cookies as Cookie[]
  t.same(cookies.map(c => c.name).sort(), ['access', 'csrf', 'device', 'refresh'])
  t.ok(cookies.every(c => c.secure !== true && c.httpOnly === true))
  t.ok(lines.some(line => line.includes('COOKIE_SECURE=false')), 'said in the log at start')
})

t.test('the page itself is served at /', async t => {
  const app = await build(t)
  const page = await app.inject('/')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, /<script src="\/app.js" defer><\/script>/)
  t.equal((await app.inject('/app.js')).statusCode, 200)
  t.equal((await app.inject('/nothing-here.js')).json().error, 'not_found')
  t.equal(ORIGIN, 'http://localhost:80')
})
