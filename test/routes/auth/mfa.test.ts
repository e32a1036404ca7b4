// The second factor as its users meet it: setting up an authenticator app, a client that follows
// mfa_required through the mfa-otp grant, a browser's two-step login, turning it off, new
// recovery codes, an admin's reset; and what an attacker with the password alone gets.
import t from 'tap'
import { bearer, Browser, build, decodeJwt, enableTotp, formPost, newUser, nextCode, PASSWORD, register, signedIn, signedInAdmin, token, type App, totpCode, totpStep } from '../../helper.js'
import { smtpServer } from '../../mail.js'
import { MFA_OTP_GRANT } from '../../../src/schemas/mfa.js'

const mfaOtp = (app: App, mfaToken: string, otp: string) => formPost(app, '/auth/token', { grant_type: MFA_OTP_GRANT, mfa_token: mfaToken, otp })
const passwordGrant = (app: App, username: string, password = PASSWORD) => formPost(app, '/auth/token', { username, password })

t.test('setting up an authenticator app: a secret, its QR code, a first code, ten recovery codes; a mail', async t => {
  const smtp = await smtpServer(t)
  const app = await build(t, { SMTP_URL: smtp.url, PUBLIC_URL: 'https://auth.example.test' })
  const { user, tokens } = await signedIn(app)
  const headers = bearer(tokens.access_token)

  const setup = await app.inject({ method: 'POST', url: '/auth/mfa/totp', headers })
  t.equal(setup.statusCode, 200)
  const { secret, uri, qrCode } = setup.json()
  t.match(secret, /^[A-Z2-7]{32}$/, '160 bits, base32')
  const parsed = new URL(uri)
  t.equal(parsed.protocol, 'otpauth:')
  t.equal(parsed.host, 'totp')
  t.equal(decodeURIComponent(parsed.pathname), `/authd:${user.username}`)
  t.equal(parsed.searchParams.get('secret'), secret)
  t.equal(parsed.searchParams.get('issuer'), 'authd')
  t.match(qrCode, /^<svg[^>]*>.*<\/svg>\s*$/s, 'the QR code, as SVG')
  const stored = await app.store.prisma.totpFactor.findUniqueOrThrow({ where: { userId: user.id } })
  t.notOk(stored.sealed.includes(secret), 'the secret is sealed at rest')
  t.same((await app.inject({ url: '/auth/mfa', headers })).json(), { totp: false, recoveryCodes: 0, passkeys: 0 }, 'not on until confirmed')
  t.equal((await passwordGrant(app, user.username)).statusCode, 200, 'an unconfirmed setup asks nothing of a login')

  const again = await app.inject({ method: 'POST', url: '/auth/mfa/totp', headers })
  t.not(again.json().secret, secret, 'starting again replaces the setup')
  const step = totpStep(Date.now())
  const wrong = await app.inject({ method: 'POST', url: '/auth/mfa/totp/confirm', headers, payload: { code: totpCode(secret, step) } })
  t.same(wrong.json(), { error: 'invalid_code', message: 'The code is wrong, expired or already used' }, 'a code of the replaced secret')

  const confirmed = await app.inject({ method: 'POST', url: '/auth/mfa/totp/confirm', headers, payload: { code: totpCode(again.json().secret, step) } })
  t.equal(confirmed.statusCode, 200)
  const { recoveryCodes } = confirmed.json()
  t.equal(recoveryCodes.length, 10)
  for (const code of recoveryCodes) t.match(code, /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/)
  const hashes = (await app.store.prisma.recoveryCode.findMany({ where: { userId: user.id } })).map(row => row.hash)
  t.equal(hashes.length, 10)
  t.notOk(hashes.some(hash => recoveryCodes.some((code: string) => hash.includes(code.replaceAll('-', '')))), 'only hashes are kept')
  t.same((await app.inject({ url: '/auth/mfa', headers })).json(), { totp: true, recoveryCodes: 10, passkeys: 0 })

  const twice = await app.inject({ method: 'POST', url: '/auth/mfa/totp', headers })
  t.equal(twice.statusCode, 409)
  t.equal(twice.json().error, 'totp_enabled', 'no second secret while one is on')
  const notice = await smtp.mail(user.email, 1, { subject: 'The sign-in of your account changed' })
  t.match(notice.text, /An authenticator app was set up/)
  t.ok(await app.store.prisma.auditEvent.findFirst({ where: { type: 'mfa_enabled', userId: user.id } }))
})

t.test('a client follows mfa_required: the password grant gives an mfa_token, the mfa-otp grant the tokens', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const totp = await enableTotp(app, tokens.access_token)

  const first = await passwordGrant(app, user.username)
  t.equal(first.statusCode, 403)
  const body = first.json()
  t.same(Object.keys(body).sort(), ['error', 'error_description', 'mfa_token'], 'no token of any kind')
  t.equal(body.error, 'mfa_required')
  t.match(body.mfa_token, /^[A-Za-z0-9_-]{43}$/)
  t.equal(first.headers['cache-control'], 'no-store')

  const wrongPassword = await passwordGrant(app, user.username, 'not the password at all')
  t.same(wrongPassword.json().error, 'invalid_grant', 'a wrong password still says only that: no mfa_token')

  const wrong = await mfaOtp(app, body.mfa_token, '000000')
  t.equal(wrong.statusCode, 400)
  t.same(wrong.json(), { error: 'invalid_grant', error_description: 'The one-time code is wrong or was already used' })
  const unknown = await mfaOtp(app, 'a'.repeat(43), nextCode(totp))
  t.same(unknown.json(), { error: 'invalid_grant', error_description: 'The mfa_token is invalid, used or expired; log in again' })
  const missing = await formPost(app, '/auth/token', { grant_type: MFA_OTP_GRANT, mfa_token: body.mfa_token })
  t.equal(missing.json().error, 'invalid_request')

  const done = await mfaOtp(app, body.mfa_token, nextCode(totp))
  t.equal(done.statusCode, 200)
  const { payload } = decodeJwt(done.json().access_token)
  t.same(payload.amr, ['pwd', 'otp', 'mfa'], 'RFC 8176: a password and a one-time code')
  t.ok(Math.abs(payload.auth_time - Date.now() / 1000) < 5)
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(done.json().access_token) })).statusCode, 200)
  t.equal((await mfaOtp(app, body.mfa_token, nextCode(totp))).json().error, 'invalid_grant', 'the mfa_token worked once')

  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: done.json().refresh_token } })
  t.same(decodeJwt(refreshed.json().access_token).payload.amr, ['pwd', 'otp', 'mfa'], 'a refresh keeps how the session was opened')

  const metadata = (await app.inject('/.well-known/oauth-authorization-server')).json()
  t.ok(metadata.grant_types_supported.includes(MFA_OTP_GRANT))
  const events = await app.store.prisma.auditEvent.findMany({ where: { userId: user.id }, orderBy: { seq: 'asc' } })
  t.ok(events.some(e => e.type === 'login_mfa_required'))
  t.ok(events.some(e => e.type === 'mfa_failed'))
})

t.test('a recovery code stands in for the app, once', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const totp = await enableTotp(app, tokens.access_token)
  const code = totp.recoveryCodes[0]
  const login = async () => (await passwordGrant(app, user.username)).json().mfa_token as string
  t.equal((await mfaOtp(app, await login(), code)).statusCode, 200)
  t.equal((await mfaOtp(app, await login(), code)).json().error, 'invalid_grant', 'used')
  const used = await app.store.prisma.auditEvent.findFirst({ where: { type: 'mfa_recovery_code_used', userId: user.id } })
  t.ok(used, 'its use is in the audit trail')
  t.same((await app.inject({ url: '/auth/mfa', headers: bearer(tokens.access_token) })).json().recoveryCodes, 9)
})

t.test('wrong codes count against the account like wrong passwords: rate_limited, then the owner waits too', async t => {
  const app = await build(t, { RATE_LIMIT_ACCOUNT: '3' })
  const { user, tokens } = await signedIn(app)
  const totp = await enableTotp(app, tokens.access_token)
  // (A right password gives its slot back: the logins themselves fill nothing.)
  const pending: string[] = []
  for (let i = 0; i < 5; i++) pending.push((await passwordGrant(app, user.username)).json().mfa_token)
  const statuses: number[] = []
  for (const mfaToken of pending.slice(0, 4)) statuses.push((await mfaOtp(app, mfaToken, '123456')).statusCode)
  t.same(statuses, [400, 400, 400, 429], 'a fresh mfa_token each time changes nothing')
  const right = await mfaOtp(app, pending[4], nextCode(totp))
  t.equal(right.statusCode, 429, 'no code is even checked while the window is full')
  t.ok(right.headers['retry-after'])
  t.equal((await passwordGrant(app, user.username)).statusCode, 429, 'nor a password')
})

t.test('a browser logs in in two steps; no session cookie before the second', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const totp = await enableTotp(app, tokens.access_token)
  const browser = new Browser(app)
  await browser.request('GET', '/auth/csrf')
  const first = await browser.request('POST', '/auth/login', { payload: { username: user.username, password: PASSWORD } })
  t.equal(first.statusCode, 200)
  t.same(first.json(), { mfaRequired: true, methods: ['totp', 'recovery_code'] })
  t.same([...browser.jar.keys()].sort(), ['__Host-csrf', '__Host-device', '__Secure-mfa'], 'no access or refresh cookie')
  const pending = (first.cookies as Array<{ name: string, httpOnly?: boolean, secure?: boolean, sameSite?: string, path?: string, maxAge?: number }>).find(c => c.name === '__Secure-mfa')
  t.match(pending, { httpOnly: true, secure: true, sameSite: 'Strict', path: '/auth/login', maxAge: 300 })
  t.equal((await browser.request('GET', '/auth/me')).statusCode, 401)

  const forged = await browser.request('POST', '/auth/login/mfa', { payload: { code: nextCode(totp) }, csrf: false })
  t.equal(forged.json().error, 'csrf_rejected', 'the second step needs the CSRF token too')
  const wrong = await browser.request('POST', '/auth/login/mfa', { payload: { code: '000000' } })
  t.same(wrong.json(), { error: 'invalid_code', message: 'The code is wrong, expired or already used' })

  const done = await browser.request('POST', '/auth/login/mfa', { payload: { code: nextCode(totp) } })
  t.equal(done.statusCode, 200)
  t.equal(done.json().user.username, user.username)
  t.ok(browser.jar.has('__Host-access') && browser.jar.has('__Secure-refresh'))
  t.notOk(browser.jar.has('__Secure-mfa'), 'the pending login\'s cookie is cleared')
  t.equal((await browser.request('GET', '/auth/me')).statusCode, 200)

  const stranger = new Browser(app)
  await stranger.request('GET', '/auth/csrf')
  const without = await stranger.request('POST', '/auth/login/mfa', { payload: { code: nextCode(totp) } })
  t.same(without.json(), { error: 'invalid_mfa_token', message: 'This sign-in expired or was already completed; sign in again' }, 'no pending login, no session')
})

t.test('turning the app off needs the password and a code; logins are then as before', async t => {
  const smtp = await smtpServer(t)
  const app = await build(t, { SMTP_URL: smtp.url, PUBLIC_URL: 'https://auth.example.test' })
  const { user, tokens } = await signedIn(app)
  const totp = await enableTotp(app, tokens.access_token)
  const headers = bearer(tokens.access_token)
  const off = (password: string, code: string) => app.inject({ method: 'DELETE', url: '/auth/mfa/totp', headers, payload: { password, code } })

  t.equal((await off('not the password', nextCode(totp))).json().error, 'wrong_password')
  t.equal((await off(PASSWORD, '000000')).json().error, 'invalid_code')
  t.equal((await off(PASSWORD, nextCode(totp))).statusCode, 204)
  t.equal(await app.store.prisma.totpFactor.count({ where: { userId: user.id } }), 0)
  t.equal(await app.store.prisma.recoveryCode.count({ where: { userId: user.id } }), 0, 'the recovery codes went with it')
  t.equal((await passwordGrant(app, user.username)).statusCode, 200)
  t.equal((await off(PASSWORD, totp.recoveryCodes[0])).json().error, 'totp_not_enabled')
  t.match((await smtp.mail(user.email, 2, { subject: 'The sign-in of your account changed' })).text, /turned off/)
  t.ok(await app.store.prisma.auditEvent.findFirst({ where: { type: 'mfa_disabled', userId: user.id } }))
})

t.test('new recovery codes void the old set; they need the password', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const totp = await enableTotp(app, tokens.access_token)
  const headers = bearer(tokens.access_token)
  const refused = await app.inject({ method: 'POST', url: '/auth/mfa/recovery-codes', headers, payload: { password: 'not it at all' } })
  t.equal(refused.json().error, 'wrong_password')
  const renewed = await app.inject({ method: 'POST', url: '/auth/mfa/recovery-codes', headers, payload: { password: PASSWORD } })
  t.equal(renewed.statusCode, 200)
  const fresh: string[] = renewed.json().recoveryCodes
  t.equal(fresh.length, 10)
  const login = async () => (await passwordGrant(app, user.username)).json().mfa_token as string
  t.equal((await mfaOtp(app, await login(), totp.recoveryCodes[0])).json().error, 'invalid_grant', 'an old code')
  t.equal((await mfaOtp(app, await login(), fresh[0])).statusCode, 200, 'a new one')

  const plain = await signedIn(app)
  const none = await app.inject({ method: 'POST', url: '/auth/mfa/recovery-codes', headers: bearer(plain.tokens.access_token), payload: { password: PASSWORD } })
  t.equal(none.json().error, 'totp_not_enabled')
})

t.test('an admin sees whether a user has a second factor and removes it; the user is told', async t => {
  const smtp = await smtpServer(t)
  const app = await build(t, { SMTP_URL: smtp.url, PUBLIC_URL: 'https://auth.example.test' })
  const admin = await signedInAdmin(app)
  const { user, tokens } = await signedIn(app, newUser())
  await enableTotp(app, tokens.access_token)
  const headers = bearer(admin.tokens.access_token)

  const seen = await app.inject({ url: `/admin/users/${user.id}`, headers })
  t.same(seen.json().secondFactors, { totp: true, recoveryCodes: 10, passkeys: 0 })
  const userToken = await app.inject({ method: 'DELETE', url: `/admin/users/${user.id}/second-factors`, headers: bearer(tokens.access_token) })
  t.equal(userToken.statusCode, 403, 'not for a user')

  const reset = await app.inject({ method: 'DELETE', url: `/admin/users/${user.id}/second-factors`, headers })
  t.same(reset.json(), { totp: true, passkeys: 0 })
  t.same((await app.inject({ url: `/admin/users/${user.id}`, headers })).json().secondFactors, { totp: false, recoveryCodes: 0, passkeys: 0 })
  t.equal((await passwordGrant(app, user.username)).statusCode, 200, 'the user signs in with the password alone')
  t.match((await smtp.mail(user.email, 2, { subject: 'The sign-in of your account changed' })).text, /An administrator removed the second factors/)
  const event = await app.store.prisma.auditEvent.findFirstOrThrow({ where: { type: 'mfa_reset', userId: user.id } })
  t.equal(event.actorId, admin.user.id)
  t.same(JSON.parse(event.detail as string), { totp: true, passkeys: 0 })
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/users/00000000-0000-4000-8000-000000000000/second-factors', headers })).statusCode, 404)
})

t.test('an account without a second factor logs in as before, and the setup needs a signed-in user', async t => {
  const app = await build(t)
  const user = await register(app)
  const tokens = await token(app, user.username)
  t.same(decodeJwt(tokens.access_token).payload.amr, ['pwd'])
  t.equal((await app.inject({ method: 'POST', url: '/auth/mfa/totp' })).statusCode, 401)
})
