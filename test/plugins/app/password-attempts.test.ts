// Brute force: per-IP limits on every password route; per account, one sliding window for the
// devices it does not know, across IPs, names and routes; and the owner on a known device, who
// is never held up by a guesser.
import t from 'tap'
import { Browser, build, newUser, PASSWORD, register, signedIn, bearer, type App } from '../../helper.js'

const login = (app: App, username: string, password: string, ip?: string) => app.inject({
  method: 'POST',
  url: '/auth/token',
  payload: { username, password },
  ...(ip !== undefined && { headers: { 'x-forwarded-for': ip } })
})

t.test('per client IP: the token endpoint, the browser login and password changes answer 429 with Retry-After', async t => {
  const app = await build(t, { RATE_LIMIT_LOGIN: '3' })
  const user = await register(app)
  for (let i = 0; i < 3; i++) t.equal((await login(app, user.username, 'wrong password')).statusCode, 400)
  const limited = await login(app, user.username, PASSWORD)
  t.equal(limited.statusCode, 429, 'even with the right password: the IP has had its share')
  t.match(limited.json(), { error: 'rate_limited', error_description: /^Too many attempts; retry in \d+ s$/ })
  t.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60)

  const browser = new Browser(app)
  await browser.request('GET', '/auth/csrf')
  const page = await browser.request('POST', '/auth/login', { payload: { username: user.username, password: PASSWORD } })
  t.equal(page.statusCode, 429, 'the same IP at the browser login')
  t.equal(page.json().error, 'rate_limited')
})

t.test('per account, across IPs: rotating addresses gains nothing, and the guesses never reach bcrypt', async t => {
  const app = await build(t, { RATE_LIMIT_ACCOUNT: '5', TRUST_PROXY: 'true' })
  const victim = await register(app)
  const bystander = await register(app)
  let compared = 0
  const verify = app.passwords.verify
  app.passwords.verify = async (password, hash) => { compared++; return await verify(password, hash) }

  for (let i = 0; i < 5; i++) t.equal((await login(app, victim.username, `guess ${i}`, `198.51.100.${i}`)).statusCode, 400)
  t.equal(compared, 5)
  for (let i = 0; i < 10; i++) {
    const res = await login(app, i % 2 === 0 ? victim.username : victim.username.toUpperCase(), `guess ${i}`, `203.0.113.${i}`)
    t.equal(res.statusCode, 429, `guess from a new IP ${i}`)
  }
  t.equal(compared, 5, 'no further guess reached bcrypt')
  t.equal((await login(app, victim.username, PASSWORD, '192.0.2.1')).statusCode, 429, 'the owner is slowed too, while it lasts')
  t.equal((await login(app, bystander.username, PASSWORD, '203.0.113.1')).statusCode, 200, 'other accounts are not affected')

  // An hour later the window has moved on: the owner gets in.
  const now = Date.now
  Date.now = () => now() + 3_600_001
  t.teardown(() => { Date.now = now })
  t.equal((await login(app, victim.username, PASSWORD, '192.0.2.1')).statusCode, 200, 'never locked out for good')
})

t.test('successful logins do not count against the account', async t => {
  const app = await build(t, { RATE_LIMIT_ACCOUNT: '2' })
  const user = await register(app)
  for (let i = 0; i < 6; i++) t.equal((await login(app, user.username, PASSWORD)).statusCode, 200)
})

t.test('password changes: limited per IP, and wrong current passwords per account', async t => {
  const app = await build(t, { RATE_LIMIT_ACCOUNT: '2' })
  const { tokens } = await signedIn(app)
  const change = (currentPassword: string) => app.inject({
    method: 'POST', url: '/auth/password', headers: bearer(tokens.access_token), payload: { currentPassword, newPassword: 'a brand new passphrase' }
  })
  t.equal((await change('wrong one')).json().error, 'wrong_password')
  t.equal((await change('wrong two')).json().error, 'wrong_password')
  const limited = await change(PASSWORD)
  t.equal(limited.statusCode, 429)
  t.ok(limited.headers['retry-after'])
})

t.test('registrations and unknown routes are limited per IP', async t => {
  const app = await build(t, { RATE_LIMIT_REGISTER: '2', RATE_LIMIT_NOT_FOUND: '3' })
  t.equal((await app.inject({ method: 'POST', url: '/auth/register', payload: newUser() })).statusCode, 201)
  t.equal((await app.inject({ method: 'POST', url: '/auth/register', payload: newUser() })).statusCode, 201)
  const third = await app.inject({ method: 'POST', url: '/auth/register', payload: newUser() })
  t.equal(third.statusCode, 429)
  t.equal(third.json().error, 'rate_limited')
  t.ok(third.headers['retry-after'])
  t.equal(await app.store.prisma.user.count(), 2)

  for (let i = 0; i < 3; i++) t.equal((await app.inject(`/probe-${i}`)).statusCode, 404)
  const probing = await app.inject('/probe-more')
  t.equal(probing.statusCode, 429)
  t.ok(probing.headers['retry-after'])
})

t.test('without TRUST_PROXY, a spoofed X-Forwarded-For changes nothing', async t => {
  const app = await build(t, { RATE_LIMIT_LOGIN: '2' })
  const user = await register(app)
  for (let i = 0; i < 2; i++) await login(app, user.username, 'wrong', `198.51.100.${i}`)
  t.equal((await login(app, user.username, PASSWORD, '198.51.100.99')).statusCode, 429)
})

const browserLogin = async (app: App, username: string, password: string, ip: string, browser = new Browser(app)) => {
  await browser.request('GET', '/auth/csrf', { headers: { 'x-forwarded-for': ip } })
  return await browser.request('POST', '/auth/login', { payload: { username, password }, headers: { 'x-forwarded-for': ip } })
}

t.test('simultaneous guesses: only the limit reaches bcrypt, the rest are refused before it', async t => {
  const app = await build(t, { RATE_LIMIT_ACCOUNT: '3', TRUST_PROXY: 'true' })
  const victim = await register(app)
  let compared = 0
  const verify = app.passwords.verify
  app.passwords.verify = async (password, hash) => { compared++; return await verify(password, hash) }
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => login(app, victim.username, `guess ${i}`, `198.51.100.${i}`)))
  const statuses = answers.map(res => res.statusCode).sort()
  t.same(statuses, [...Array(3).fill(400), ...Array(17).fill(429)])
  t.equal(compared, 3, 'three comparisons, no more')
})

t.test('one account, one counter: its username, its email and the password change count together', async t => {
  const app = await build(t, { RATE_LIMIT_ACCOUNT: '4', TRUST_PROXY: 'true' })
  const { user, tokens } = await signedIn(app)
  t.equal((await login(app, user.username, 'guess 1', '198.51.100.1')).statusCode, 400)
  t.equal((await login(app, user.email, 'guess 2', '198.51.100.2')).statusCode, 400)
  t.equal((await browserLogin(app, user.email.toUpperCase(), 'guess 3', '198.51.100.3')).statusCode, 401)
  // A stolen access token used from elsewhere, to guess the password at the password change.
  const change = await app.inject({
    method: 'POST',
    url: '/auth/password',
    headers: { ...bearer(tokens.access_token), 'x-forwarded-for': '198.51.100.4' },
    payload: { currentPassword: 'guess 4', newPassword: 'a brand new passphrase' }
  })
  t.equal(change.json().error, 'wrong_password')
  for (const [name, res] of [
    ['by username', await login(app, user.username, 'guess 5', '198.51.100.5')],
    ['by email', await login(app, user.email, 'guess 6', '198.51.100.6')],
    ['in a browser', await browserLogin(app, user.username, 'guess 7', '198.51.100.7')]
  ] as const) {
    t.equal(res.statusCode, 429, name)
    t.equal(res.json().error, 'rate_limited')
  }
})

t.test('the attacker and the owner side by side: the owner\'s known devices get in, strangers do not', async t => {
  const app = await build(t, { RATE_LIMIT_ACCOUNT: '3', TRUST_PROXY: 'true' })
  const owner = await register(app)
  // The owner signed in before: in this browser, and from an API client at 192.0.2.10.
  const browser = new Browser(app)
  const first = await browserLogin(app, owner.username, PASSWORD, '192.0.2.20', browser)
  t.equal(first.statusCode, 200)
  const device = (first.cookies as Array<{ name: string, value: string, httpOnly?: boolean, secure?: boolean, sameSite?: string, path?: string, maxAge?: number }>)
    .find(cookie => cookie.name === '__Host-device')
  t.match(device, { httpOnly: true, secure: true, sameSite: 'Strict', path: '/', maxAge: 30 * 24 * 3600 }, 'a signed, HttpOnly device cookie')
  t.equal((await login(app, owner.username, PASSWORD, '192.0.2.10')).statusCode, 200)
  // Signed out, the browser keeps it.
  t.equal((await browser.request('POST', '/auth/logout', { headers: { 'x-forwarded-for': '192.0.2.20' } })).statusCode, 204)
  t.same([...browser.jar.keys()].sort(), ['__Host-csrf', '__Host-device'])

  // The attacker fills the account's window from addresses the account never signed in from.
  for (let i = 0; i < 3; i++) t.equal((await login(app, owner.username, `guess ${i}`, `203.0.113.${i}`)).statusCode, 400)
  const refused = await login(app, owner.username, 'guess 3', '203.0.113.99')
  t.equal(refused.statusCode, 429)
  const retryAfter = Number(refused.headers['retry-after'])
  t.ok(retryAfter > 3500 && retryAfter <= 3600, `Retry-After ${retryAfter}: when the first guess leaves the window`)
  t.equal((await login(app, owner.username, PASSWORD, '203.0.113.98')).statusCode, 429, 'a stranger with the right password waits too')
  t.equal((await browserLogin(app, owner.username, PASSWORD, '203.0.113.97')).statusCode, 429, 'and a new browser')

  t.equal((await browserLogin(app, owner.username, PASSWORD, '198.51.100.200', browser)).statusCode, 200,
    'the owner\'s browser gets in, from any address')
  await browser.request('POST', '/auth/logout')
  t.equal((await login(app, owner.username, PASSWORD, '192.0.2.10')).statusCode, 200, 'so does the owner\'s API client at its address')

  // A device cookie counts only for the account it was issued to, and only as signed.
  const other = await register(app)
  const otherBrowser = new Browser(app)
  await browserLogin(app, other.username, PASSWORD, '192.0.2.30', otherBrowser)
  const theirs = otherBrowser.jar.get('__Host-device') as string
  const [account, id, signature] = (browser.jar.get('__Host-device') as string).split('.')
  for (const [name, value] of [
    ['another account\'s cookie', theirs],
    ['a forged signature', `${account}.${id}.${signature.slice(0, -2)}AA`],
    ['a made-up device', `${account}.bWFkZS11cA.${signature}`],
    ['an extra part', `${account}.${id}.${signature}.x`]
  ]) {
    const forged = new Browser(app)
    forged.jar.set('__Host-device', value)
    t.equal((await browserLogin(app, owner.username, PASSWORD, '203.0.113.50', forged)).statusCode, 429, name)
  }

  // A known device has a window of its own: the owner mistyping fills it, not the account's.
  for (let i = 0; i < 3; i++) t.equal((await browserLogin(app, owner.username, `typo ${i}`, '192.0.2.20', browser)).statusCode, 401)
  t.equal((await browserLogin(app, owner.username, PASSWORD, '192.0.2.20', browser)).statusCode, 429, 'the device\'s own limit')
  t.equal((await login(app, owner.username, PASSWORD, '192.0.2.10')).statusCode, 200, 'the other known device is unaffected')

  // The window slides: an hour after the attacker's guesses, they no longer count.
  const now = Date.now
  t.teardown(() => { Date.now = now })
  Date.now = () => now() + 3_600_000 + 1000
  t.equal((await login(app, owner.username, PASSWORD, '203.0.113.96')).statusCode, 200, 'a stranger with the right password, an hour on')
  t.equal((await login(app, owner.username, 'guess 4', '203.0.113.95')).statusCode, 400, 'and a guess is compared again')
})
