// The keys other services verify tokens with: the JWKS and the metadata documents against their
// RFCs, a real resource server (jose's createRemoteJWKSet, pointed at the running service) for
// each algorithm, before and after a rotation and a revocation, and the algorithm-confusion
// attacks a resource server or the service itself must refuse.
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, type JsonWebKey } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { createRemoteJWKSet, jwtVerify, SignJWT, exportJWK, generateKeyPair } from 'jose'
import { open } from '../../src/auth/key-material.js'
import { bearer, build, claims, decodeJwt, forge, register, tempDir, token, type App } from '../helper.js'

const ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']

async function listening (app: App) {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  return `http://127.0.0.1:${port}`
}

const jwks = async (app: App) => (await app.inject({ url: '/.well-known/jwks.json' })).json().keys as Array<Record<string, string>>

for (const alg of ALGORITHMS) {
  t.test(`${alg}: a resource server verifies the tokens with the JWKS alone, and checks what it must`, async t => {
    const app = await build(t, { JWT_ALG: alg, JWT_ISSUER: 'https://auth.example.com', JWT_AUDIENCE: 'orders-api' })
    const base = await listening(app)
    const user = await register(app)
    const { access_token: accessToken } = await token(app, user.username)
    const { header } = decodeJwt(accessToken)
    t.same([header.alg, header.typ], [alg, 'at+jwt'])
    t.type(header.kid, 'string', 'the header names its key')

    const keys = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`))
    const { payload, protectedHeader } = await jwtVerify(accessToken, keys, { issuer: 'https://auth.example.com', audience: 'orders-api', typ: 'at+jwt', algorithms: [alg] })
    t.equal(payload.sub, user.id)
    t.equal(protectedHeader.kid, header.kid)
    await t.rejects(jwtVerify(accessToken, keys, { issuer: 'https://someone-else.example.com' }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' }, 'a resource server that checks iss')
    await t.rejects(jwtVerify(accessToken, keys, { audience: 'billing-api' }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' }, '... and aud')

    const published = await jwks(app)
    t.equal(published.length, 1)
    const [jwk] = published
    t.same([jwk.kid, jwk.alg, jwk.use], [header.kid, alg, 'sig'])
    const members = alg === 'ES256' ? { kty: 'EC', crv: 'P-256' } : alg === 'EdDSA' ? { kty: 'OKP', crv: 'Ed25519' } : { kty: 'RSA', e: 'AQAB' }
    t.match(jwk, members)
    for (const member of alg === 'RS256' ? ['n', 'e'] : alg === 'ES256' ? ['x', 'y'] : ['x']) t.type(jwk[member], 'string', `${member} present`)
    for (const member of PRIVATE_MEMBERS) t.notOk(member in jwk, `no private member ${member}`)
  })
}

t.test('the JWKS: cacheable with an ETag, readable from any origin; empty under HS256', async t => {
  const app = await build(t, { JWKS_MAX_AGE: '300' })
  const res = await app.inject({ url: '/.well-known/jwks.json', headers: { origin: 'https://orders.example.com' } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'public, max-age=300')
  t.equal(res.headers['access-control-allow-origin'], '*')
  t.match(res.headers['content-type'], /^application\/json/)
  const etag = res.headers.etag as string
  t.match(etag, /^"[\w-]+"$/)
  const again = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': etag } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')

  const hs = await build(t, { JWT_ALG: 'HS256' })
  t.same((await hs.inject({ url: '/.well-known/jwks.json' })).json(), { keys: [] })
})

t.test('the metadata (RFC 8414): its required members, absolute URLs from PUBLIC_URL, the issuer of the tokens', async t => {
  const app = await build(t, { PUBLIC_URL: 'https://auth.example.com', JWT_ISSUER: 'https://auth.example.com' })
  const res = await app.inject({ url: '/.well-known/oauth-authorization-server' })
  t.equal(res.statusCode, 200)
  const metadata = res.json()
  t.same(metadata, {
    issuer: 'https://auth.example.com',
    token_endpoint: 'https://auth.example.com/auth/token',
    jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
    revocation_endpoint: 'https://auth.example.com/auth/revoke',
    introspection_endpoint: 'https://auth.example.com/auth/introspect',
    grant_types_supported: ['password', 'refresh_token', 'client_credentials', 'urn:authd:params:oauth:grant-type:mfa-otp'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    revocation_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    introspection_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'],
    scopes_supported: ['profile', 'users:read', 'users:write', 'sessions:revoke', 'clients:read', 'clients:write', 'tokens:introspect']
  })
  const user = await register(app)
  t.equal(decodeJwt((await token(app, user.username)).access_token).payload.iss, metadata.issuer, 'the tokens\' iss is the issuer')
})

t.test('a rotation: the next key is published before it signs; tokens of both verify; then the new one signs', async t => {
  const app = await build(t)
  const base = await listening(app)
  const user = await register(app)
  const before = (await token(app, user.username)).access_token
  const rotated = await app.signingKeys.rotate()
  t.equal(rotated.state, 'waiting')
  t.same((await jwks(app)).map(key => key.kid), [decodeJwt(before).header.kid, rotated.kid], 'published at once, beside the signing key')
  t.equal(decodeJwt((await token(app, user.username)).access_token).header.kid, decodeJwt(before).header.kid, 'the old key still signs')

  // A cache lifetime later (the rows moved back in time, as the clock would have moved on):
  await app.store.prisma.signingKey.update({ where: { kid: decodeJwt(before).header.kid }, data: { activatesAt: new Date(Date.now() - 3_600_000) } })
  await app.store.prisma.signingKey.update({ where: { kid: rotated.kid }, data: { activatesAt: new Date(Date.now() - 1000) } })
  await app.signingKeys.reload()
  const after = (await token(app, user.username)).access_token
  t.equal(decodeJwt(after).header.kid, rotated.kid, 'the new key signs')
  const keys = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`))
  for (const accessToken of [before, after]) {
    t.equal((await jwtVerify(accessToken, keys, { typ: 'at+jwt' })).payload.sub, user.id)
    t.equal((await app.inject({ url: '/auth/me', headers: bearer(accessToken) })).statusCode, 200, 'and the service takes both')
  }
})

t.test('a revoked key: out of the JWKS, its tokens refused by the service and by a resource server; sessions live on', async t => {
  const app = await build(t)
  const base = await listening(app)
  const user = await register(app)
  const tokens = await token(app, user.username)
  const { kid } = decodeJwt(tokens.access_token).header
  t.ok(await app.signingKeys.revoke(kid))
  t.notOk(await app.signingKeys.revoke(kid), 'once')
  t.notOk((await jwks(app)).some(key => key.kid === kid), 'gone from the JWKS')
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(tokens.access_token) })).statusCode, 401, 'the service refuses its token')
  await t.rejects(jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`))), { code: 'ERR_JWKS_NO_MATCHING_KEY' }, 'so does a resource server')
  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } })
  t.equal(refreshed.statusCode, 200, 'the session refreshes')
  const fresh = refreshed.json().access_token as string
  t.not(decodeJwt(fresh).header.kid, kid, 'under a new key, which signs from now')
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(fresh) })).statusCode, 200)
})

t.test('algorithm confusion and keys of the attacker\'s: every one refused', async t => {
  const keysFile = join(tempDir(t), 'keys.json')
  const es = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })
  const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
  writeFileSync(keysFile, JSON.stringify({ keys: [{ ...es, kid: 'es-1' }, { ...ed, kid: 'ed-1' }] }))
  const app = await build(t, { JWT_KEYS_FILE: keysFile })
  const user = await register(app)
  const good = (await token(app, user.username)).access_token
  t.equal(decodeJwt(good).header.kid, 'es-1', 'the first key of the file signs')
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(good) })).statusCode, 200)

  const payload = claims({ sub: user.id, sid: decodeJwt(good).payload.sid })
  const published = await jwks(app)
  const esPublic = published.find(key => key.kid === 'es-1') as JsonWebKey
  const pem = createPublicKey({ key: es, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string
  const hmacWith = (secret: string) => (input: string) => createHmac('sha256', secret).update(input).digest('base64url')
  const esSign = (jwk: JsonWebKey) => (input: string) => cryptoSign('sha256', Buffer.from(input), { key: createPrivateKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }).toString('base64url')
  const attacker = await generateKeyPair('ES256', { extractable: true })
  const attackerJwk = await exportJWK(attacker.publicKey)
  const ownJwk = async (header: Record<string, unknown>) => await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header }).sign(attacker.privateKey)

  const attacks: Array<[string, string]> = [
    ['HS256 with the public key\'s PEM as the secret', forge({ alg: 'HS256', typ: 'at+jwt', kid: 'es-1' }, payload, hmacWith(pem))],
    ['HS256 with the public JWK as the secret', forge({ alg: 'HS256', typ: 'at+jwt', kid: 'es-1' }, payload, hmacWith(JSON.stringify(esPublic)))],
    ['HS256 with the service secret, without a kid', forge({ alg: 'HS256', typ: 'at+jwt' }, payload)],
    ['alg none', forge({ alg: 'none', typ: 'at+jwt', kid: 'es-1' }, payload, () => '')],
    ['an unknown kid', forge({ alg: 'ES256', typ: 'at+jwt', kid: 'nobody' }, payload, esSign(es))],
    ['the kid of another type of key (EdDSA key, ES256 token)', forge({ alg: 'ES256', typ: 'at+jwt', kid: 'ed-1' }, payload, esSign(es))],
    ['ES256 by the attacker, with its own jwk in the header', await ownJwk({ jwk: attackerJwk })],
    ['ES256 by the attacker, with its own jwk and our kid', await ownJwk({ jwk: attackerJwk, kid: 'es-1' })],
    ['ES256 by the attacker, with a jku of its own', await ownJwk({ jku: 'https://attacker.example/jwks.json', kid: 'es-1' })],
    ['ES256 by the attacker, with an x5u and an x5c', await ownJwk({ x5u: 'https://attacker.example/cert.pem', x5c: ['MIIB'], kid: 'es-1' })],
    ['a kid that is not a string', forge({ alg: 'ES256', typ: 'at+jwt', kid: ['es-1'] }, payload, esSign(es))]
  ]
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(forge({ alg: 'ES256', typ: 'at+jwt', kid: 'es-1' }, payload, esSign(es))) })).statusCode, 200,
    'the control: the same forgery signed with the real key is taken')
  for (const [name, attack] of attacks) {
    const res = await app.inject({ url: '/auth/me', headers: bearer(attack) })
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().error, 'invalid_token', name)
  }
})

t.test('two instances due for a rotation at the same moment create one key', async t => {
  const dir = tempDir(t)
  const [a, b] = [await build(t, {}, { dir }), await build(t, {}, { dir })]
  const signing = (await a.signingKeys.list()).find(key => key.state === 'signing')!
  // The signing key made 30 days old: a rotation is due.
  await a.store.prisma.signingKey.update({ where: { kid: signing.kid }, data: { activatesAt: new Date(Date.now() - 30 * 24 * 3600_000) } })
  await Promise.all([a.signingKeys.maintain(), b.signingKeys.maintain(), a.signingKeys.maintain(), b.signingKeys.maintain()])
  const waiting = (await a.signingKeys.list()).filter(key => key.state === 'waiting')
  t.equal(waiting.length, 1, 'one successor, waiting to sign')
  t.same((await b.signingKeys.list()).map(key => key.kid).sort(), (await a.signingKeys.list()).map(key => key.kid).sort(), 'both see the same set')
})

t.test('the private keys are sealed at rest: the rows alone sign nothing', async t => {
  const app = await build(t)
  const [row] = await app.store.prisma.signingKey.findMany()
  t.notOk('d' in JSON.parse(row.publicJwk as string), 'the public JWK has no private member')
  t.type(open(row.sealed as string, row.kid, app.config.JWT_SECRET)?.d, 'string', 'the sealed one opens with the secret')
  t.equal(open(row.sealed as string, row.kid, 'another-secret-of-more-than-thirty-two-bytes'), undefined, 'and with nothing else')
  t.equal(open(row.sealed as string, 'another-kid', app.config.JWT_SECRET), undefined, 'nor as another key\'s')
})
