import t from 'tap'
import { randomUUID } from 'node:crypto'
import { generateKeyPair, exportJWK, SignJWT } from 'jose'
import { basic, bearer, build, clientToken, decodeJwt, formPost, refresh, registeredClient, signedIn, signedInAdmin, type App } from '../../helper.js'

const INACTIVE = { active: false }

async function resourceServer (app: App) {
  const client = await registeredClient(app, { scopes: ['tokens:introspect'] })
  const introspect = async (token: string, hint?: string) => {
    const res = await formPost(app, '/auth/introspect', { token, ...(hint !== undefined && { token_type_hint: hint }) }, basic(client.id, client.secret))
    if (res.statusCode !== 200) throw new Error(`introspect: ${res.statusCode} ${res.body}`)
    t.equal(res.headers['cache-control'], 'no-store')
    return res.json()
  }
  return { client, introspect }
}

t.test('a live access token: what it carries; a live refresh token: its session', async t => {
  const app = await build(t)
  const { introspect } = await resourceServer(app)
  const { user, tokens } = await signedIn(app)
  const { payload } = decodeJwt(tokens.access_token)
  t.same(await introspect(tokens.access_token), {
    active: true, scope: 'profile', username: user.username, token_type: 'Bearer', exp: payload.exp, iat: payload.iat,
    sub: user.id, aud: 'authd', iss: 'authd', jti: payload.jti, sid: payload.sid, amr: ['pwd'], auth_time: payload.auth_time
  })
  const asRefresh = await introspect(tokens.refresh_token, 'access_token')
  t.equal(asRefresh.active, true, 'a wrong hint is only where to look first')
  t.equal(asRefresh.token_type, 'refresh_token')
  t.equal(asRefresh.sid, payload.sid)
  t.equal(asRefresh.username, user.username)
  t.ok(asRefresh.exp > payload.exp)
  t.same([asRefresh.amr, asRefresh.auth_time], [['pwd'], payload.auth_time])

  const admin = await signedInAdmin(app)
  t.same((await introspect(admin.tokens.access_token)).amr, ['pwd', 'otp', 'mfa'], 'a session opened with a code says so')

  const machine = await registeredClient(app, { scopes: ['users:read'] })
  const { access_token: machineToken } = await clientToken(app, machine)
  const answer = await introspect(machineToken)
  t.equal(answer.client_id, machine.id)
  t.equal(answer.sub, machine.id)
  t.notOk('username' in answer)
})

t.test('anything not live is { active: false } and nothing else', async t => {
  const app = await build(t, { REFRESH_REUSE_GRACE: '0' })
  const { introspect } = await resourceServer(app)
  const actor = { id: null, sessionId: null, ip: null, userAgent: null }

  t.same(await introspect('not a token'), INACTIVE, 'malformed')
  t.same(await introspect('a.b.c'), INACTIVE, 'a JWT in shape only')
  t.same(await introspect(randomUUID()), INACTIVE, 'unknown')

  const out = await signedIn(app)
  await app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(out.tokens.access_token) })
  t.same(await introspect(out.tokens.access_token), INACTIVE, 'right after logout')
  t.same(await introspect(out.tokens.refresh_token), INACTIVE, 'its refresh token too')

  const revoked = await signedIn(app)
  await formPost(app, '/auth/revoke', { token: revoked.tokens.access_token })
  t.same(await introspect(revoked.tokens.access_token), INACTIVE, 'right after revocation')
  t.equal((await introspect(revoked.tokens.refresh_token)).active, true, 'the session lives on')

  const rotated = await signedIn(app)
  const next = await refresh(app, rotated.tokens.refresh_token)
  t.same(await introspect(rotated.tokens.refresh_token), INACTIVE, 'a used refresh token')
  t.equal((await introspect(next.json().refresh_token)).active, true, 'its successor is live')
  await refresh(app, rotated.tokens.refresh_token)
  t.same(await introspect(next.json().refresh_token), INACTIVE, 'after reuse detection ended the session')
  t.same(await introspect(next.json().access_token), INACTIVE)

  const { tokens: adminTokens } = await signedInAdmin(app)
  const disabled = await signedIn(app)
  await app.inject({ method: 'PATCH', url: `/admin/users/${disabled.user.id}`, headers: bearer(adminTokens.access_token), payload: { disabled: true } })
  t.same(await introspect(disabled.tokens.access_token), INACTIVE, 'a disabled user')
  t.same(await introspect(disabled.tokens.refresh_token), INACTIVE)

  const machine = await registeredClient(app, { scopes: ['users:read'] })
  const { access_token: machineToken } = await clientToken(app, machine)
  await app.clients.update(actor, machine.id, { disabled: true })
  t.same(await introspect(machineToken), INACTIVE, 'a disabled client')

  const keyed = await signedIn(app)
  const { kid } = decodeJwt(keyed.tokens.access_token).header
  await app.signingKeys.revoke(kid)
  t.same(await introspect(keyed.tokens.access_token), INACTIVE, 'signed by a revoked key')
})

t.test('an expired token is inactive', async t => {
  let clock = Date.now()
  const app = await build(t, { ACCESS_TOKEN_TTL: '60' })
  const { introspect } = await resourceServer(app)
  const { tokens } = await signedIn(app)
  const realNow = Date.now
  Date.now = () => clock
  t.teardown(() => { Date.now = realNow })
  clock += 120_000
  t.same(await introspect(tokens.access_token), INACTIVE)
})

t.test('who may introspect: a client holding tokens:introspect, by Basic, form, assertion or its own token', async t => {
  const app = await build(t)
  const { tokens } = await signedIn(app)
  const { client } = await resourceServer(app)
  const ask = (headers: Record<string, string>, fields: Record<string, string> = {}) => formPost(app, '/auth/introspect', { token: tokens.access_token, ...fields }, headers)

  t.equal((await ask({}, { client_id: client.id, client_secret: client.secret })).json().active, true, 'client_secret_post')
  const { access_token: own } = await clientToken(app, client)
  t.equal((await ask(bearer(own))).json().active, true, 'its access token')

  const { publicKey, privateKey } = await generateKeyPair('EdDSA')
  const keyed = await registeredClient(app, { authMethod: 'private_key_jwt', scopes: ['tokens:introspect'], jwks: { keys: [await exportJWK(publicKey)] } })
  const assertion = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'EdDSA' }).setIssuer(keyed.id).setSubject(keyed.id)
    .setAudience('http://localhost:80/auth/introspect').setExpirationTime('1m').sign(privateKey)
  const byAssertion = await ask({}, { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion })
  t.equal(byAssertion.json().active, true, 'private_key_jwt, with this endpoint as audience')

  const noScope = await registeredClient(app, { scopes: ['users:read'] })
  const refused = await ask(basic(noScope.id, noScope.secret))
  t.equal(refused.statusCode, 403, 'a client without tokens:introspect')
  t.equal(refused.json().error, 'insufficient_scope')
  const { access_token: noScopeToken } = await clientToken(app, noScope)
  t.equal((await ask(bearer(noScopeToken))).statusCode, 403)

  const anonymous = await ask({})
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().error, 'invalid_client')
  t.equal((await ask(basic(client.id, 'wrong'))).statusCode, 401)
  const user = await ask(bearer(tokens.access_token))
  t.equal(user.statusCode, 403, 'a user\'s token, even an admin\'s, is not a client')
  t.equal(user.json().error, 'user_required')
  const missing = await formPost(app, '/auth/introspect', {}, basic(client.id, client.secret))
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error, 'invalid_request')
})

t.test('introspection is rate limited per client', async t => {
  const app = await build(t, { RATE_LIMIT_CLIENT: '3' })
  const { tokens } = await signedIn(app)
  const client = await registeredClient(app, { scopes: ['tokens:introspect'] })
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await formPost(app, '/auth/introspect', { token: tokens.access_token }, basic(client.id, client.secret))).statusCode)
  t.same(statuses, [200, 200, 200, 429])
})

t.test('revocation with client authentication: its own tokens only', async t => {
  const app = await build(t)
  const client = await registeredClient(app, { scopes: ['users:read'] })
  const other = await registeredClient(app, { scopes: ['users:read'] })
  const { access_token: mine } = await clientToken(app, client)
  const { access_token: theirs } = await clientToken(app, other)
  const { tokens } = await signedIn(app)

  const foreign = await formPost(app, '/auth/revoke', { token: theirs }, basic(client.id, client.secret))
  t.equal(foreign.statusCode, 400)
  t.equal(foreign.json().error, 'unauthorized_client')
  t.equal((await app.inject({ url: '/secure-data', headers: bearer(theirs) })).statusCode, 200, 'left alone')
  for (const token of [tokens.access_token, tokens.refresh_token]) {
    const res = await formPost(app, '/auth/revoke', { token }, basic(client.id, client.secret))
    t.equal(res.json().error, 'unauthorized_client', 'a user\'s tokens are not the client\'s')
  }
  t.equal((await formPost(app, '/auth/revoke', { token: 'junk' }, basic(client.id, client.secret))).statusCode, 200, 'nothing to revoke: 200')
  t.equal((await formPost(app, '/auth/revoke', { token: mine }, basic(client.id, 'wrong'))).statusCode, 401, 'a wrong secret is not ignored')

  const ok = await formPost(app, '/auth/revoke', { token: mine }, basic(client.id, client.secret))
  t.equal(ok.statusCode, 200)
  t.equal((await app.inject({ url: '/secure-data', headers: bearer(mine) })).statusCode, 401, 'its own token: revoked')
  const event = await app.store.prisma.auditEvent.findFirstOrThrow({ where: { type: 'token_revoked' } })
  t.same(JSON.parse(event.detail as string), { via: 'revoke', clientId: client.id })
})
