import t from 'tap'
import { randomUUID } from 'node:crypto'
import { generateKeyPair, exportJWK } from 'jose'
import { basic, bearer, build, clientToken, formPost, signedIn, signedInAdmin, tokenWithCode, type App } from '../../helper.js'

const as = (app: App, accessToken: string | undefined, method: string, url: string, payload?: object) =>
  app.inject({ method: method as 'GET', url, payload, headers: accessToken === undefined ? {} : bearer(accessToken) })

t.test('register, read, change, rotate, delete: an admin\'s life of a client, each step audited', async t => {
  const app = await build(t)
  const { user: admin, tokens } = await signedInAdmin(app)
  const token = tokens.access_token

  const created = await as(app, token, 'POST', '/admin/clients', { name: 'billing', scopes: ['tokens:introspect', 'users:read'] })
  t.equal(created.statusCode, 201)
  const body = created.json()
  t.match(body, { name: 'billing', scopes: ['users:read', 'tokens:introspect'], token_endpoint_auth_method: 'client_secret_basic', disabled: false, lastUsedAt: null })
  t.match(body.client_secret, /^[A-Za-z0-9_-]{43}$/, '256 bits, base64url')
  const id = body.client_id
  await clientToken(app, { id, secret: body.client_secret })

  const read = await as(app, token, 'GET', `/admin/clients/${id}`)
  t.equal(read.statusCode, 200)
  t.notOk('client_secret' in read.json(), 'the secret is shown once, at registration')
  t.ok(read.json().lastUsedAt, 'its last use')
  const list = await as(app, token, 'GET', '/admin/clients')
  t.same(list.json().clients.map((c: { client_id: string }) => c.client_id), [id])
  t.notMatch(list.body, body.client_secret)

  const changed = await as(app, token, 'PATCH', `/admin/clients/${id}`, { name: 'billing-v2', scopes: ['tokens:introspect'] })
  t.equal(changed.statusCode, 200)
  t.match(changed.json(), { name: 'billing-v2', scopes: ['tokens:introspect'] })

  const rotated = await as(app, token, 'POST', `/admin/clients/${id}/secret`, { grace_seconds: 60 })
  t.equal(rotated.statusCode, 200)
  t.not(rotated.json().client_secret, body.client_secret)
  t.ok(rotated.json().previousSecretExpiresAt, 'until when the old secret works')
  await clientToken(app, { id, secret: body.client_secret })
  await clientToken(app, { id, secret: rotated.json().client_secret })

  t.equal((await as(app, token, 'DELETE', `/admin/clients/${id}`)).statusCode, 204)
  t.equal((await as(app, token, 'GET', `/admin/clients/${id}`)).statusCode, 404)
  t.equal((await formPost(app, '/auth/token', { grant_type: 'client_credentials' }, basic(id, rotated.json().client_secret))).statusCode, 401)

  const events = await app.store.prisma.auditEvent.findMany({ where: { type: { startsWith: 'client_' } }, orderBy: { seq: 'asc' } })
  t.same(events.map(e => e.type), ['client_created', 'client_updated', 'client_secret_rotated', 'client_deleted'])
  t.ok(events.every(e => e.actorId === admin.id), 'the admin is the actor')
  t.ok(events.every(e => JSON.parse(e.detail as string).clientId === id))
  t.notMatch(JSON.stringify(events), body.client_secret, 'no secret in the trail')
})

t.test('private_key_jwt clients register public keys only', async t => {
  const app = await build(t)
  const { tokens } = await signedInAdmin(app)
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const ok = await as(app, tokens.access_token, 'POST', '/admin/clients', { name: 'worker', scopes: ['users:read'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [await exportJWK(publicKey)] } })
  t.equal(ok.statusCode, 201)
  t.notOk('client_secret' in ok.json(), 'no secret')
  t.equal(ok.json().jwks.keys.length, 1)
  const rotate = await as(app, tokens.access_token, 'POST', `/admin/clients/${ok.json().client_id}/secret`, {})
  t.equal(rotate.statusCode, 400, 'nothing to rotate')

  const bad: Array<[string, object]> = [
    ['a private key', { keys: [await exportJWK(privateKey)] }],
    ['a symmetric key', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }],
    ['an EC key off its curve', { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] }],
    ['no keys', { keys: [] }]
  ]
  for (const [name, jwks] of bad) {
    const res = await as(app, tokens.access_token, 'POST', '/admin/clients', { name: 'x', scopes: ['users:read'], token_endpoint_auth_method: 'private_key_jwt', jwks })
    t.equal(res.statusCode, 400, name)
    t.equal(res.json().error, 'invalid_request', name)
  }
  const noJwks = await as(app, tokens.access_token, 'POST', '/admin/clients', { name: 'x', scopes: ['users:read'], token_endpoint_auth_method: 'private_key_jwt' })
  t.equal(noJwks.statusCode, 400)
  const jwksWithSecret = await as(app, tokens.access_token, 'POST', '/admin/clients', { name: 'x', scopes: ['users:read'], jwks: { keys: [await exportJWK(publicKey)] } })
  t.equal(jwksWithSecret.statusCode, 400)
  t.equal(await app.store.prisma.oAuthClient.count(), 1, 'nothing else registered')
})

t.test('bad input: a clear 400; unknown ids: 404; no clients scope: 403', async t => {
  const app = await build(t)
  const { tokens } = await signedInAdmin(app)
  const user = await signedIn(app)
  for (const payload of [{ name: 'x', scopes: [] }, { name: 'x', scopes: ['profile'] }, { name: 'x', scopes: ['nope'] }, { name: ' ', scopes: ['users:read'] },
    { name: 'x'.repeat(101), scopes: ['users:read'] }, { name: 'x', scopes: ['users:read'], extra: 1 }, { name: 'x', scopes: ['users:read', 'users:read'] }]) {
    const res = await as(app, tokens.access_token, 'POST', '/admin/clients', payload)
    t.equal(res.statusCode, 400, JSON.stringify(payload))
  }
  t.equal((await as(app, tokens.access_token, 'PATCH', `/admin/clients/${randomUUID()}`, { disabled: true })).statusCode, 404)
  t.equal((await as(app, tokens.access_token, 'PATCH', `/admin/clients/${randomUUID()}`, {})).statusCode, 400, 'a change of nothing')
  t.equal((await as(app, tokens.access_token, 'DELETE', `/admin/clients/${randomUUID()}`)).statusCode, 404)
  t.equal((await as(app, tokens.access_token, 'POST', `/admin/clients/${randomUUID()}/secret`, {})).statusCode, 404)
  t.equal((await as(app, tokens.access_token, 'GET', '/admin/clients/not-a-uuid')).statusCode, 400)
  for (const [method, url] of [['GET', '/admin/clients'], ['POST', '/admin/clients']]) {
    const res = await as(app, user.tokens.access_token, method, url, method === 'POST' ? { name: 'x', scopes: ['users:read'] } : undefined)
    t.equal(res.statusCode, 403, `${method} ${url} with a user token`)
    t.equal(res.json().error, 'insufficient_scope')
  }
  t.equal((await as(app, undefined, 'GET', '/admin/clients')).statusCode, 401)
})

t.test('a machine client with clients:write manages clients; its actions are audited under its id', async t => {
  const app = await build(t)
  const { client } = await app.clients.register({ id: null, sessionId: null, ip: null, userAgent: 'test' }, { name: 'provisioner', scopes: ['clients:read', 'clients:write'] })
  const { secret } = await app.clients.rotateSecret({ id: null, sessionId: null, ip: null, userAgent: 'test' }, client.id, 0)
  const { access_token: machine } = await clientToken(app, { id: client.id, secret })
  const res = await as(app, machine, 'POST', '/admin/clients', { name: 'child', scopes: ['tokens:introspect'] })
  t.equal(res.statusCode, 201)
  const event = await app.store.prisma.auditEvent.findFirstOrThrow({ where: { type: 'client_created', actorId: client.id } })
  t.equal(event.sessionId, null)
})

t.test('clients:write grants nothing its holder lacks: no escalation through a client', async t => {
  const app = await build(t)
  const cli = { id: null, sessionId: null, ip: null, userAgent: 'test' }
  const { client, secret } = await app.clients.register(cli, { name: 'provisioner', scopes: ['clients:write'] })
  const { client: powerful } = await app.clients.register(cli, { name: 'admin job', scopes: ['users:write'] })
  const { access_token: machine } = await clientToken(app, { id: client.id, secret: secret! })

  const escalate = await as(app, machine, 'POST', '/admin/clients', { name: 'mine', scopes: ['users:write'] })
  t.equal(escalate.statusCode, 403, 'a client with users:write')
  t.equal(escalate.json().error, 'insufficient_scope')
  t.equal((await as(app, machine, 'PATCH', `/admin/clients/${client.id}`, { scopes: ['clients:write', 'users:read'] })).statusCode, 403, 'nor widen itself')
  t.equal((await as(app, machine, 'POST', `/admin/clients/${powerful.id}/secret`, {})).statusCode, 403, 'nor take over a stronger client by its secret')
  t.equal((await as(app, machine, 'PATCH', `/admin/clients/${powerful.id}`, { disabled: true })).statusCode, 403)
  t.equal((await as(app, machine, 'DELETE', `/admin/clients/${powerful.id}`)).statusCode, 403)
  t.equal((await as(app, machine, 'POST', '/admin/clients', { name: 'reader', scopes: ['tokens:introspect'] })).statusCode, 201, 'tokens:introspect it may hand out')
  t.equal(await app.store.prisma.oAuthClient.count(), 3, 'nothing else was registered')

  const admin = await signedInAdmin(app)
  const narrow = await tokenWithCode(app, admin.user.username, admin.totp, { scope: 'clients:write' })
  t.equal((await as(app, narrow.access_token, 'POST', '/admin/clients', { name: 'x', scopes: ['users:read'] })).statusCode, 403, 'an admin token narrowed to clients:write neither')
  t.equal((await as(app, admin.tokens.access_token, 'POST', `/admin/clients/${powerful.id}/secret`, {})).statusCode, 200, 'a full admin token may')
})
