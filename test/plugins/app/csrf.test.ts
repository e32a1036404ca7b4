// The CSRF matrix for cookie-authenticated unsafe requests, tried on every route that changes
// something with the user's session.
import t from 'tap'
import { bearer, Browser, build, decodeJwt, PASSWORD, register, statusWith, type App } from '../../helper.js'

async function signedInBrowser (app: App, origin?: string) {
  const user = await register(app)
  const browser = new Browser(app, origin)
  await browser.login(user.username)
  return { user, browser }
}

const unsafe: Array<[string, string, object | undefined]> = [
  ['POST', '/auth/logout', undefined],
  ['POST', '/auth/logout-all', undefined],
  ['POST', '/auth/password', { currentPassword: 'correct horse battery staple', newPassword: 'another long passphrase' }],
  ['DELETE', '/auth/sessions/SID', undefined],
  ['POST', '/auth/refresh', {}]
]

t.test('each unsafe cookie request is refused without the right token and origin, and the session lives on', async t => {
  const app = await build(t, { CORS_ORIGINS: 'https://app.example.com' })
  const other = await signedInBrowser(app)

  for (const [method, path, payload] of unsafe) {
    const { browser } = await signedInBrowser(app)
    const access = browser.jar.get('__Host-access') as string
    const url = path.replace('SID', decodeJwt(access).payload.sid)
    const attempts: Array<[string, Parameters<Browser['request']>[2]]> = [
      ['no token', { payload, csrf: false }],
      ['another session\'s token', { payload, headers: { 'x-csrf-token': other.browser.csrfToken as string } }],
      ['a garbage token', { payload, headers: { 'x-csrf-token': 'garbage' } }],
      ['a cross-site origin', { payload, headers: { origin: 'https://evil.example' } }],
      ['another port of the same host (same-site, not same-origin)', { payload, headers: { origin: 'http://localhost:8080' } }]
    ]
    for (const [name, options] of attempts) {
      const res = await browser.request(method, url, options)
      t.equal(res.statusCode, 403, `${method} ${path}: ${name}`)
      t.equal(res.json().error, 'csrf_rejected')
    }
    t.equal(await statusWith(app, access), 200, `${method} ${path}: the session is untouched`)

    const allowed = await browser.request(method, url, { payload })
    t.ok(allowed.statusCode < 300, `${method} ${path}: with both, it works (${allowed.statusCode})`)
  }
})

t.test('without Origin, Sec-Fetch-Site decides; without either, the request is refused', async t => {
  const app = await build(t)
  for (const [site, expected] of [['cross-site', 403], ['same-site', 403], ['none', 403], [undefined, 403], ['same-origin', 204]] as const) {
    const { browser } = await signedInBrowser(app)
    const res = await app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: {
        cookie: [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; '),
        'x-csrf-token': browser.csrfToken as string,
        ...(site !== undefined && { 'sec-fetch-site': site })
      }
    })
    t.equal(res.statusCode, expected, `Sec-Fetch-Site: ${site}`)
  }
})

t.test('bearer requests are not subject to the CSRF check', async t => {
  const app = await build(t)
  const user = await register(app)
  const tokens = (await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: user.password } })).json()
  const res = await app.inject({ method: 'POST', url: '/auth/logout', headers: { ...bearer(tokens.access_token), origin: 'https://evil.example' } })
  t.equal(res.statusCode, 204)
  t.notOk(res.headers['set-cookie'], 'and get no cookies cleared: they have none')
})

t.test('a text/plain or form body cannot stand in for JSON', async t => {
  const app = await build(t)
  const { browser } = await signedInBrowser(app)
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const res = await browser.request('POST', '/auth/password', {
      payload: 'currentPassword=correct+horse+battery+staple&newPassword=another+long+passphrase',
      headers: { 'content-type': type }
    })
    t.equal(res.statusCode, 415, type)
  }
})

t.test('no state changes on GET', async t => {
  const app = await build(t)
  const { browser } = await signedInBrowser(app)
  const access = browser.jar.get('__Host-access') as string
  for (const path of ['/auth/logout', '/auth/logout-all', '/auth/refresh', '/auth/login', '/auth/password', '/auth/revoke']) {
    t.equal((await browser.request('GET', path)).statusCode, 404, path)
  }
  t.equal(await statusWith(app, access), 200)
  t.equal(await app.store.prisma.deniedToken.count(), 0)
})

t.test('behind a TLS-terminating proxy, TRUST_PROXY lets the service know its own https origin', async t => {
  const proxied = { host: 'auth.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'auth.example.com', 'x-forwarded-for': '203.0.113.9' }
  for (const [trust, expected] of [['false', 403], ['true', 200], ['1', 200], ['127.0.0.1', 200], ['10.0.0.0/8', 403]] as const) {
    const app = await build(t, { TRUST_PROXY: trust })
    const user = await register(app)
    const browser = new Browser(app, 'https://auth.example.com')
    await browser.request('GET', '/auth/csrf', { headers: proxied })
    const res = await browser.request('POST', '/auth/login', { payload: { username: user.username, password: user.password }, headers: proxied })
    t.equal(res.statusCode, expected, `TRUST_PROXY=${trust}`)
    if (expected === 200) {
      const session = await app.store.prisma.session.findFirstOrThrow()
      t.equal(session.ip, '203.0.113.9', 'and the client address is the forwarded one')
    }
  }
})

// DNS rebinding: a page at http://evil.example:1 re-points its own name at the service, so its
// requests reach the service with Host: evil.example:1, from Origin: http://evil.example:1.
t.test('PUBLIC_URL is the own origin: a rebinding page that sends its own Host is refused', async t => {
  const attack = async (app: App) => {
    const browser = new Browser(app, 'http://evil.example:1')
    await browser.request('GET', '/auth/csrf', { headers: { host: 'evil.example:1' } })
    const user = await register(app)
    return await browser.request('POST', '/auth/login', { payload: { username: user.username, password: PASSWORD }, headers: { host: 'evil.example:1' } })
  }
  // Without PUBLIC_URL, the Host header is all the service knows of its own name.
  t.equal((await attack(await build(t))).statusCode, 200, 'unset: the Host header is believed')

  const app = await build(t, { PUBLIC_URL: 'https://auth.example.com' })
  const refused = await attack(app)
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().error, 'csrf_rejected')
  t.notOk(refused.cookies.some(cookie => cookie.name === '__Host-access'), 'no session cookie')
  // The real origin passes, whatever Host the request came with (a proxy may rewrite it).
  const user = await register(app)
  const browser = new Browser(app, 'https://auth.example.com')
  t.equal((await browser.login(user.username)).statusCode, 200, 'the real origin signs in')
  t.equal((await new Browser(app).request('GET', '/auth/csrf')).statusCode, 200)
  const local = new Browser(app)
  await local.request('GET', '/auth/csrf')
  t.equal((await local.request('POST', '/auth/login', { payload: { username: user.username, password: PASSWORD } })).statusCode, 403,
    'Host: localhost, the default own origin, no longer is one')
})
