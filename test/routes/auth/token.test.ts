import t from 'tap'
import { bearer, build, decodeJwt, newUser, PASSWORD, register, type App } from '../../helper.js'

const form = (app: App, fields: Record<string, string> | string, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: typeof fields === 'string' ? fields : new URLSearchParams(fields).toString()
  })

const json = (app: App, payload: unknown) => app.inject({ method: 'POST', url: '/auth/token', payload: payload as object })

t.test('a FastAPI-tutorial client: form POST of username and password, then a bearer header', async t => {
  const app = await build(t)
  const user = await register(app)
  const res = await form(app, { username: user.username, password: PASSWORD }, { 'user-agent': 'python-requests/2.32' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  t.notOk(res.headers['set-cookie'], 'the token endpoint never sets cookies')
  const body = res.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.match(body.refresh_token, /^[A-Za-z0-9_-]{43}$/, '256 bits, base64url')
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 900)
  t.equal(body.scope, 'profile')

  const { header, payload } = decodeJwt(body.access_token)
  t.same(header, { alg: 'ES256', typ: 'at+jwt', kid: (await app.signingKeys.list()).find(key => key.state === 'signing')?.kid }, 'ES256, the default, naming its key')
  t.same(Object.keys(payload).sort(), ['amr', 'aud', 'auth_time', 'exp', 'iat', 'iss', 'jti', 'scope', 'sid', 'sub'])
  t.match(payload, { iss: 'authd', aud: 'authd', sub: user.id, scope: 'profile', amr: ['pwd'] })
  t.ok(payload.auth_time <= payload.iat && payload.iat - payload.auth_time < 2, 'auth_time: the login, just now')
  t.equal(payload.exp - payload.iat, 900)
  t.ok(Math.abs(payload.iat - Date.now() / 1000) < 5)

  const session = await app.store.prisma.session.findUniqueOrThrow({ where: { id: payload.sid } })
  t.match(session, { userId: user.id, scope: 'profile', userAgent: 'python-requests/2.32', ip: '127.0.0.1', revokedAt: null })

  for (const scheme of ['Bearer', 'bearer']) {
    const data = await app.inject({ url: '/secure-data', headers: { authorization: `${scheme} ${body.access_token}` } })
    t.equal(data.statusCode, 200, scheme)
    t.same(data.json(), { message: 'This is secure data!' })
  }
})

t.test('JSON bodies, explicit grant_type, email logins and Swagger UI extras all work', async t => {
  const app = await build(t)
  const user = await register(app)
  const variants: Array<[string, () => ReturnType<typeof form>]> = [
    ['json', () => json(app, { username: user.username, password: PASSWORD })],
    ['json with grant_type', () => json(app, { grant_type: 'password', username: user.username, password: PASSWORD })],
    ['username in another case', () => form(app, { username: user.username.toUpperCase(), password: PASSWORD })],
    ['email in another case', () => form(app, { username: user.email.toUpperCase(), password: PASSWORD })],
    ['client_id and an empty secret', () => form(app, { grant_type: 'password', username: user.username, password: PASSWORD, client_id: 'swagger', client_secret: '' })],
    ['an empty grant_type counts as omitted (RFC 6749 §3.1)', () => form(app, { grant_type: '', username: user.username, password: PASSWORD })]
  ]
  const sids = new Set<string>()
  for (const [name, send] of variants) {
    const res = await send()
    t.equal(res.statusCode, 200, name)
    sids.add(decodeJwt(res.json().access_token).payload.sid)
  }
  t.equal(sids.size, variants.length, 'each login opens its own session')
  t.equal(await app.store.prisma.session.count({ where: { userId: user.id } }), variants.length)
})

t.test('an unknown user and a wrong password get byte-for-byte the same reply, after a bcrypt comparison each', async t => {
  const app = await build(t)
  const user = await register(app)
  const compared: Array<string | null> = []
  const verify = app.passwords.verify
  app.passwords.verify = async (password, hash) => { compared.push(hash); return await verify(password, hash) }

  const wrongPassword = await form(app, { username: user.username, password: 'not the password' })
  const unknownUser = await form(app, { username: 'nobody', password: 'not the password' })
  const unknownEmail = await form(app, { username: 'nobody@example.com', password: PASSWORD })
  for (const res of [wrongPassword, unknownUser, unknownEmail]) {
    t.equal(res.statusCode, 400)
    t.equal(res.body, wrongPassword.body)
    t.equal(res.headers['content-type'], wrongPassword.headers['content-type'])
    t.equal(res.headers['cache-control'], 'no-store')
  }
  t.same(wrongPassword.json(), { error: 'invalid_grant', error_description: 'Invalid username or password' })
  t.equal(compared.length, 3, 'bcrypt ran for each attempt')
  t.match(compared[0], /^\$2b\$04\$/, 'the real hash for the real user')
  t.equal(compared[1], null, 'the dummy hash for an unknown user (see the passwords test)')
  t.equal(await app.store.prisma.session.count(), 0, 'no session for a failed login')
})

t.test('a disabled account cannot log in, and says so no differently', async t => {
  const app = await build(t)
  const user = await register(app)
  await app.store.prisma.user.update({ where: { id: user.id }, data: { disabled: true } })
  const res = await form(app, { username: user.username, password: PASSWORD })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: 'invalid_grant', error_description: 'Invalid username or password' })
})

t.test('a password longer than 72 bytes never matches, even when its first 72 bytes do', async t => {
  const app = await build(t)
  const password = 'p'.repeat(72)
  const user = await register(app, newUser({ password }))
  t.equal((await form(app, { username: user.username, password })).statusCode, 200)
  const longer = await form(app, { username: user.username, password: password + 'extra' })
  t.equal(longer.statusCode, 400)
  t.equal(longer.json().error, 'invalid_grant')
})

t.test('malformed requests: RFC 6749 error codes, error_description, no-store', async t => {
  const app = await build(t)
  const user = await register(app)
  const cases: Array<[string, () => ReturnType<typeof form>, string]> = [
    ['another grant type', () => form(app, { grant_type: 'authorization_code', username: user.username, password: PASSWORD }), 'unsupported_grant_type'],
    ['no password', () => form(app, { username: user.username }), 'invalid_request'],
    ['empty password', () => form(app, { username: user.username, password: '' }), 'invalid_request'],
    ['no username', () => form(app, { password: PASSWORD }), 'invalid_request'],
    ['nothing', () => form(app, ''), 'invalid_request'],
    ['a parameter twice', () => form(app, `username=${user.username}&username=other&password=${PASSWORD}`), 'invalid_request'],
    ['a number for the password', () => json(app, { username: user.username, password: 12345678 }), 'invalid_request'],
    ['a JSON array', () => json(app, [{ username: user.username, password: PASSWORD }]), 'invalid_request'],
    ['broken JSON', () => app.inject({ method: 'POST', url: '/auth/token', headers: { 'content-type': 'application/json' }, payload: '{"username":' }), 'invalid_request']
  ]
  for (const [name, send, error] of cases) {
    const res = await send()
    t.equal(res.statusCode, 400, name)
    t.equal(res.json().error, error, name)
    t.type(res.json().error_description, 'string', name)
    t.equal(res.headers['cache-control'], 'no-store', name)
  }
  const plain = await app.inject({ method: 'POST', url: '/auth/token', headers: { 'content-type': 'text/plain' }, payload: 'username=x' })
  t.equal(plain.statusCode, 415)
  t.equal(plain.json().error, 'unsupported_media_type')
  t.equal(await app.store.prisma.session.count(), 0)
})

t.test('scope: a subset of what the roles grant; nothing grantable is invalid_scope', async t => {
  // The admin scopes with a password alone: the second factor's part is in test/plugins/app/scopes.test.ts.
  const app = await build(t, { MFA_REQUIRED_SCOPES: 'none' })
  const user = await register(app)
  const ask = (scope: string) => form(app, { username: user.username, password: PASSWORD, scope })

  const profile = await ask('profile')
  t.equal(profile.json().scope, 'profile')
  const mixed = await ask('users:write profile made-up')
  t.equal(mixed.json().scope, 'profile', 'ungranted scopes are left out')
  t.equal(decodeJwt(mixed.json().access_token).payload.scope, 'profile')

  const denied = await ask('users:read users:write')
  t.equal(denied.statusCode, 400)
  t.same(denied.json(), { error: 'invalid_scope', error_description: 'None of the requested scopes can be granted' })

  await app.store.prisma.userRole.create({ data: { userId: user.id, role: 'admin' } })
  const admin = await ask('')
  t.equal(admin.json().scope, 'profile users:read users:write sessions:revoke clients:read clients:write', 'no scope asked: all granted ones')
  const narrowed = await ask('users:read')
  t.equal(narrowed.json().scope, 'users:read')
  const res = await app.inject({ url: '/secure-data', headers: bearer(narrowed.json().access_token) })
  t.equal(res.statusCode, 200)
})
