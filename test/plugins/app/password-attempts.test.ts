// Brute force: per-IP limits on every password route, a per-account limit across IPs, and a
// legitimate user who is slowed while it lasts, never locked out for good.
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
  t.equal(await app.prisma.user.count(), 2)

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
