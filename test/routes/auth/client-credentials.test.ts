import t from 'tap'
import { generateKeyPair, exportJWK, SignJWT } from 'jose'
import { randomUUID } from 'node:crypto'
import { basic, bearer, build, clientToken, decodeJwt, forge, formPost, registeredClient, signedIn, statusWith, type App } from '../../helper.js'

const TOKEN_URL = 'http://localhost:80/auth/token'

const grant = (app: App, fields: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  formPost(app, '/auth/token', { grant_type: 'client_credentials', ...fields }, headers)

async function keyClient (app: App, scopes = ['users:read']) {
  const { publicKey, privateKey } = await generateKeyPair('ES256')
  const client = await registeredClient(app, { authMethod: 'private_key_jwt', scopes, jwks: { keys: [{ ...await exportJWK(publicKey), alg: 'ES256' }] } })
  const assertion = (claims: Record<string, unknown> = {}, key = privateKey) => {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ iss: client.id, sub: client.id, aud: TOKEN_URL, jti: randomUUID(), iat: now, exp: now + 120, ...claims })
      .setProtectedHeader({ alg: 'ES256' }).sign(key)
  }
  return { id: client.id, assertion }
}

const assertionFields = (assertion: string) => ({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion })

t.test('Basic: an access token for the client, with its scopes, and no refresh token', async t => {
  const app = await build(t)
  const client = await registeredClient(app, { scopes: ['users:read', 'tokens:introspect'] })
  const res = await grant(app, {}, basic(client.id, client.secret))
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'], 'no refresh token (RFC 6749 §4.4.3)')
  t.equal(body.scope, 'users:read tokens:introspect')
  const { header, payload } = decodeJwt(body.access_token)
  t.equal(header.typ, 'at+jwt')
  t.equal(payload.sub, client.id)
  t.equal(payload.client_id, client.id)
  t.notOk('sid' in payload, 'no session')
  t.equal(await statusWith(app, body.access_token), 200, 'a route machines may call')

  const narrowed = await grant(app, { scope: 'users:read' }, basic(client.id, client.secret))
  t.equal(narrowed.json().scope, 'users:read', 'a subset when asked')
  const row = await app.store.prisma.oAuthClient.findUniqueOrThrow({ where: { id: client.id } })
  t.ok(row.lastUsedAt, 'last use recorded')
  t.notMatch(JSON.stringify(row), client.secret, 'the secret is not stored, only its hash')
})

t.test('Basic decodes the form-encoding the RFC requires of id and secret', async t => {
  const app = await build(t)
  const client = await registeredClient(app)
  const encodeAll = (value: string) => [...value].map(c => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join('')
  const header = { authorization: `Basic ${Buffer.from(`${encodeAll(client.id)}:${encodeAll(client.secret)}`).toString('base64')}` }
  t.equal((await grant(app, {}, header)).statusCode, 200)
})

t.test('client_secret_post, and JSON bodies', async t => {
  const app = await build(t)
  const client = await registeredClient(app)
  t.equal((await grant(app, { client_id: client.id, client_secret: client.secret })).statusCode, 200)
  const json = await app.inject({ method: 'POST', url: '/auth/token', payload: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret } })
  t.equal(json.statusCode, 200)
})

t.test('failures are 401 invalid_client with a Basic challenge, and tell nothing more', async t => {
  const app = await build(t)
  const client = await registeredClient(app)
  const other = await registeredClient(app)
  const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
    ['wrong secret', {}, basic(client.id, other.secret)],
    ['unknown client', {}, basic(randomUUID(), client.secret)],
    ['no credentials', {}, {}],
    ['wrong secret in the form', { client_id: client.id, client_secret: 'x' }, {}],
    ['another client\'s id in the form beside Basic', { client_id: other.id }, basic(client.id, client.secret)],
    ['Basic without a colon', {}, { authorization: `Basic ${Buffer.from(client.id).toString('base64')}` }]
  ]
  for (const [name, fields, headers] of cases) {
    const res = await grant(app, fields, headers)
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().error, 'invalid_client', name)
    t.equal(res.json().error_description, 'Client authentication failed', name)
    t.match(res.headers['www-authenticate'], /^Basic realm="authd"/, name)
  }
  await app.clients.update({ id: null, sessionId: null, ip: null, userAgent: null }, client.id, { disabled: true })
  t.equal((await grant(app, {}, basic(client.id, client.secret))).statusCode, 401, 'a disabled client')
  const two = await grant(app, { client_id: client.id, client_secret: client.secret }, basic(client.id, client.secret))
  t.equal(two.statusCode, 400, 'two methods at once')
  t.equal(two.json().error, 'invalid_request')
})

t.test('scopes beyond the client\'s are invalid_scope; a user scope is never granted to a client', async t => {
  const app = await build(t)
  const client = await registeredClient(app, { scopes: ['users:read'] })
  for (const scope of ['users:write', 'users:read users:write', 'profile']) {
    const res = await grant(app, { scope }, basic(client.id, client.secret))
    t.equal(res.statusCode, 400, scope)
    t.equal(res.json().error, 'invalid_scope', scope)
  }
  const admin = await app.inject({ method: 'POST', url: '/admin/clients', headers: bearer((await clientToken(app, client)).access_token), payload: { name: 'x', scopes: ['users:read'] } })
  t.equal(admin.statusCode, 403, 'users:read does not register clients')
})

t.test('private_key_jwt: an assertion once; reused, expired, for another audience, or signed by another key: invalid_client', async t => {
  const app = await build(t)
  const client = await keyClient(app)
  const assertion = await client.assertion()
  const ok = await grant(app, assertionFields(assertion))
  t.equal(ok.statusCode, 200)
  t.equal(decodeJwt(ok.json().access_token).payload.client_id, client.id)
  t.equal((await grant(app, { ...assertionFields(await client.assertion()), client_id: client.id })).statusCode, 200, 'with client_id beside it')
  t.equal((await grant(app, { ...assertionFields(await client.assertion({ aud: 'authd' })) })).statusCode, 200, 'the issuer as audience')

  const { privateKey: stranger } = await generateKeyPair('ES256')
  const now = Math.floor(Date.now() / 1000)
  const refused: Array<[string, string]> = [
    ['the same assertion again', assertion],
    ['expired', await client.assertion({ exp: now - 120 })],
    ['another audience', await client.assertion({ aud: 'https://elsewhere.example/token' })],
    ['signed by another key', await client.assertion({}, stranger)],
    ['living longer than an hour', await client.assertion({ exp: now + 7200 })],
    ['no jti', await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(client.id).setSubject(client.id).setAudience(TOKEN_URL).setExpirationTime('1m').sign((await generateKeyPair('ES256')).privateKey)],
    ['sub is not the client', await client.assertion({ sub: randomUUID() })],
    ['not a JWT', 'a.b.c']
  ]
  for (const [name, bad] of refused) {
    const res = await grant(app, assertionFields(bad))
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().error, 'invalid_client', name)
  }
  const rows = await app.store.prisma.usedAssertion.findMany({ where: { clientId: client.id } })
  t.equal(rows.length, 3, 'each accepted jti kept, to refuse its replay')

  const secretClient = await registeredClient(app)
  t.equal((await grant(app, {}, basic(client.id, secretClient.secret))).statusCode, 401, 'a key client cannot use a secret')
  const wrongType = await grant(app, { client_assertion_type: 'urn:other', client_assertion: assertion })
  t.equal(wrongType.json().error, 'invalid_request')
})

t.test('a machine token on a user route is 403 user_required; on admin routes its scopes decide', async t => {
  const app = await build(t)
  await signedIn(app)
  const client = await registeredClient(app, { scopes: ['users:read', 'tokens:introspect'] })
  const { access_token: machine } = await clientToken(app, client)
  for (const [method, url] of [['GET', '/auth/me'], ['GET', '/auth/sessions'], ['POST', '/auth/logout'], ['POST', '/auth/logout-all'], ['POST', '/auth/password'], ['DELETE', `/auth/sessions/${randomUUID()}`]] as const) {
    const res = await app.inject({ method, url, headers: bearer(machine), payload: method === 'GET' ? undefined : {} })
    t.equal(res.statusCode, 403, `${method} ${url}`)
    t.equal(res.json().error, 'user_required', `${method} ${url}`)
  }
  const list = await app.inject({ url: '/admin/users?limit=5', headers: bearer(machine) })
  t.equal(list.statusCode, 200, 'users:read lists users')
  t.equal(list.json().users.length, 1)
  const write = await app.inject({ method: 'DELETE', url: `/admin/users/${list.json().users[0].id}`, headers: bearer(machine) })
  t.equal(write.statusCode, 403)
  t.equal(write.json().error, 'insufficient_scope')
})

t.test('forged machine tokens are refused: client_id other than sub, or both sid and client_id', async t => {
  const app = await build(t, { JWT_ALG: 'HS256' })
  const client = await registeredClient(app)
  const now = Math.floor(Date.now() / 1000)
  const base = { jti: randomUUID(), scope: 'tokens:introspect', iss: 'authd', aud: 'authd', iat: now, exp: now + 600 }
  const good = forge({ alg: 'HS256', typ: 'at+jwt' }, { ...base, sub: client.id, client_id: client.id })
  t.equal(await statusWith(app, good), 200, 'the control: a well-formed one passes')
  t.equal(await statusWith(app, forge({ alg: 'HS256', typ: 'at+jwt' }, { ...base, sub: randomUUID(), client_id: client.id })), 401)
  t.equal(await statusWith(app, forge({ alg: 'HS256', typ: 'at+jwt' }, { ...base, sub: client.id, client_id: client.id, sid: randomUUID() })), 401)
  t.equal(await statusWith(app, forge({ alg: 'HS256', typ: 'at+jwt' }, { ...base, sub: client.id })), 401, 'neither')
})

t.test('disable, delete or narrow a client: its tokens are refused at once; enabled again, new ones work', async t => {
  const app = await build(t)
  const actor = { id: null, sessionId: null, ip: null, userAgent: null }
  const client = await registeredClient(app, { scopes: ['users:read', 'tokens:introspect'] })
  const first = (await clientToken(app, client)).access_token
  await app.clients.update(actor, client.id, { disabled: true })
  t.equal(await statusWith(app, first), 401, 'disabled: refused')
  t.equal((await grant(app, {}, basic(client.id, client.secret))).statusCode, 401, 'and no new token')
  await app.clients.update(actor, client.id, { disabled: false })
  const second = (await clientToken(app, client)).access_token
  t.equal(await statusWith(app, second), 200, 'enabled again: a new token works')
  t.equal(await statusWith(app, first), 401, 'the old one stays refused')

  await app.clients.update(actor, client.id, { scopes: ['tokens:introspect'] })
  t.equal(await statusWith(app, second), 401, 'a scope taken away: its tokens go')
  t.equal((await grant(app, { scope: 'users:read' }, basic(client.id, client.secret))).json().error, 'invalid_scope')
  const third = (await clientToken(app, client)).access_token
  t.equal(await statusWith(app, third), 200)
  await app.clients.update(actor, client.id, { name: 'renamed' })
  t.equal(await statusWith(app, third), 200, 'a rename refuses nothing')

  await app.clients.remove(actor, client.id)
  t.equal(await statusWith(app, third), 401, 'deleted: refused')
  const denied = await app.store.prisma.deniedToken.findMany({ where: { kind: 'client_before', value: client.id } })
  t.equal(denied.length, 1, 'one cut-off row per client, the latest')
})

t.test('a rotated secret: the old one works for the grace period, or not at all with none', async t => {
  const app = await build(t)
  const actor = { id: null, sessionId: null, ip: null, userAgent: null }
  const client = await registeredClient(app)
  const { secret: second } = await app.clients.rotateSecret(actor, client.id, 3600)
  t.equal((await grant(app, {}, basic(client.id, client.secret))).statusCode, 200, 'the old secret, in its grace')
  t.equal((await grant(app, {}, basic(client.id, second))).statusCode, 200, 'the new one')
  const { secret: third } = await app.clients.rotateSecret(actor, client.id, 0)
  t.equal((await grant(app, {}, basic(client.id, second))).statusCode, 401, 'no grace: the replaced one ends now')
  t.equal((await grant(app, {}, basic(client.id, client.secret))).statusCode, 401, 'and the one before it too')
  t.equal((await grant(app, {}, basic(client.id, third))).statusCode, 200)
  const types = (await app.store.prisma.auditEvent.findMany({ where: { type: { startsWith: 'client_' } }, orderBy: { seq: 'asc' } })).map(e => e.type)
  t.same(types, ['client_created', 'client_secret_rotated', 'client_secret_rotated'])
})

t.test('rate limits: wrong secrets per client id (a right one still passes), and requests per client', async t => {
  const app = await build(t, { RATE_LIMIT_CLIENT_AUTH: '3', RATE_LIMIT_CLIENT: '5' })
  const client = await registeredClient(app)
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await grant(app, {}, basic(client.id, 'wrong'))).statusCode)
  t.same(statuses, [401, 401, 401, 429])
  const limited = await grant(app, {}, basic(client.id, 'wrong'))
  t.ok(Number(limited.headers['retry-after']) > 0)
  t.equal((await grant(app, {}, basic(client.id, client.secret))).statusCode, 200, 'the right secret is not locked out')
  const more = []
  for (let i = 0; i < 5; i++) more.push((await grant(app, {}, basic(client.id, client.secret))).statusCode)
  t.same(more, [200, 200, 200, 200, 429], 'five requests a minute, the first included')
})

t.test('the password grant ignores client credentials, as before', async t => {
  const app = await build(t)
  const { user } = await signedIn(app)
  const res = await formPost(app, '/auth/token', { username: user.username, password: user.password, client_id: 'swagger-ui', client_secret: 'whatever' })
  t.equal(res.statusCode, 200)
  t.ok(res.json().refresh_token)
})
