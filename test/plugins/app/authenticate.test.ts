// Every way an access token can be wrong is a 401, never a 500 and never a 200.
import { createSign, generateKeyPairSync, createHmac } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { build, claims, decodeJwt, forge, register, token, TEST_SECRET, type App } from '../../helper.js'

const HEADER = { alg: 'HS256', typ: 'at+jwt' }
// These tokens are forged with the secret, as HS256 signs them (JWT_ALG=HS256): each check of
// the policy is the same whatever the key. test/routes/well-known.test.ts forges with the others.
const HS256 = { JWT_ALG: 'HS256' }

async function get (app: App, url: string, authorization?: string) {
  return app.inject({ url, headers: authorization === undefined ? {} : { authorization } })
}

t.test('no token: 401 with a bare Bearer challenge', async t => {
  const app = await build(t)
  for (const authorization of [undefined, 'Basic dXNlcjpwYXNz', 'Token abc']) {
    for (const url of ['/secure-data', '/auth/me']) {
      const res = await get(app, url, authorization)
      t.equal(res.statusCode, 401, `${url} ${authorization}`)
      t.equal(res.headers['www-authenticate'], 'Bearer realm="authd"')
      t.same(res.json(), { error: 'unauthorized', message: 'Authentication is required' })
    }
  }
})

t.test('a token in the query string is ignored', async t => {
  const app = await build(t)
  const user = await register(app)
  const { access_token: accessToken } = await token(app, user.username)
  t.equal((await get(app, '/secure-data', `Bearer ${accessToken}`)).statusCode, 200, 'the token itself is good')
  for (const query of ['access_token', 'token', 'authorization']) {
    const res = await get(app, `/secure-data?${query}=${accessToken}`)
    t.equal(res.statusCode, 401, query)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="authd"')
  }
})

t.test('forged, tampered and malformed tokens: 401 invalid_token, one by one', async t => {
  const app = await build(t, HS256)
  const hmac = (alg: string, key = TEST_SECRET) => (input: string) => createHmac(alg, key).update(input).digest('base64url')
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const rs256 = (input: string) => createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const valid = forge(HEADER, claims())
  const [h, p, s] = valid.split('.')
  const without = (claim: string) => { const c: Record<string, unknown> = claims(); delete c[claim]; return c }
  const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)

  // The control: the forging helper makes tokens the service accepts when nothing is wrong.
  t.equal((await get(app, '/secure-data', `Bearer ${valid}`)).statusCode, 200, 'control: a correct token passes')
  t.equal((await get(app, '/secure-data', `Bearer ${forge({ alg: 'HS256', typ: 'application/at+jwt' }, claims())}`)).statusCode, 200,
    'control: typ may carry the application/ prefix (RFC 9068)')

  const cases: Array<[string, string]> = [
    ['alg none, no signature', `${forge({ alg: 'none', typ: 'at+jwt' }, claims(), () => '')}`],
    ['alg none, with an HS256 signature', forge({ alg: 'none', typ: 'at+jwt' }, claims())],
    ['HS512 with the right secret', forge({ alg: 'HS512', typ: 'at+jwt' }, claims(), hmac('sha512'))],
    ['HS384 with the right secret', forge({ alg: 'HS384', typ: 'at+jwt' }, claims(), hmac('sha384'))],
    ['RS256 with an attacker key', forge({ alg: 'RS256', typ: 'at+jwt' }, claims(), rs256)],
    ['HS256 with another secret', forge(HEADER, claims(), hmac('sha256', 'another-secret-of-more-than-thirty-two-bytes'))],
    // The control above left the genuine token remembered, under its signature, which this one keeps.
    ['tampered payload, with the signature of a token already accepted', `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'profile users:write' })).toString('base64url')}.${s}`],
    ['tampered signature', `${h}.${p}.${flip(s, 10)}`],
    ['signature removed', `${h}.${p}.`],
    ['expired', forge(HEADER, claims({ iat: now - 10, exp: now - 5 }))],
    ['not yet valid', forge(HEADER, claims({ nbf: now + 600 }))],
    ['wrong issuer', forge(HEADER, claims({ iss: 'someone-else' }))],
    ['wrong audience', forge(HEADER, claims({ aud: 'another-service' }))],
    ['no exp', forge(HEADER, without('exp'))],
    ['no iat', forge(HEADER, without('iat'))],
    ['no iss', forge(HEADER, without('iss'))],
    ['no aud', forge(HEADER, without('aud'))],
    ['no sub', forge(HEADER, without('sub'))],
    ['no sid', forge(HEADER, without('sid'))],
    ['no jti', forge(HEADER, without('jti'))],
    ['no scope', forge(HEADER, without('scope'))],
    ['exp as a string', forge(HEADER, claims({ exp: String(now + 900) }))],
    ['scope as a number', forge(HEADER, claims({ scope: 42 }))],
    ['sub as an object', forge(HEADER, claims({ sub: { id: 1 } }))],
    ['lifetime longer than the access TTL', forge(HEADER, claims({ iat: now - 1000, exp: now + 1000 }))],
    ['issued in the future, to stretch the TTL', forge(HEADER, claims({ iat: now + 3600, exp: now + 4000 }))],
    ['typ JWT', forge({ alg: 'HS256', typ: 'JWT' }, claims())],
    ['no typ', forge({ alg: 'HS256' }, claims())],
    ['an unknown critical header', forge({ ...HEADER, crit: ['exp-ext'], 'exp-ext': 1 }, claims())],
    ['payload not JSON', `${h}.${Buffer.from('not json').toString('base64url')}.${hmac('sha256')(`${h}.${Buffer.from('not json').toString('base64url')}`)}`],
    ['payload a JSON string', forge(HEADER, 'a string' as unknown as Record<string, unknown>)],
    ['garbage', 'garbage'],
    ['three dots', '...'],
    ['two parts', `${h}.${p}`],
    ['an empty token', ''],
    ['a huge token', 'a'.repeat(6000)]
  ]
  for (const [name, jwt] of cases) {
    for (const url of ['/secure-data', '/auth/me']) {
      const res = await get(app, url, `Bearer ${jwt}`)
      t.equal(res.statusCode, 401, `${name} (${url})`)
      t.equal(res.json().error, 'invalid_token', name)
      t.match(res.headers['www-authenticate'], /^Bearer realm="authd", error="invalid_token", error_description="[^"]+"$/, name)
      t.notMatch(res.body, /FAST_JWT|FST_|at \/|\.js:/, `${name}: no internals in the reply`)
    }
  }

  // The header's framing: the scheme, one space, the token, and nothing else.
  const framings: Array<[string, string]> = [
    ['two spaces', `Bearer  ${valid}`],
    ['a tab', `Bearer\t${valid}`],
    ['a second value', `Bearer ${valid} ${valid}`]
  ]
  for (const [name, header] of framings) {
    const res = await get(app, '/secure-data', header)
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().error, 'invalid_token', name)
  }
  t.equal((await get(app, '/secure-data', `bearer ${valid}`)).statusCode, 200, 'control: the scheme is case-insensitive')
})

t.test('an expired token says so in its challenge', async t => {
  const app = await build(t, HS256)
  const now = Math.floor(Date.now() / 1000)
  const res = await get(app, '/secure-data', `Bearer ${forge(HEADER, claims({ iat: now - 10, exp: now - 5 }))}`)
  t.equal(res.statusCode, 401)
  t.same(res.json(), { error: 'invalid_token', message: 'The access token expired' })
  t.equal(res.headers['www-authenticate'], 'Bearer realm="authd", error="invalid_token", error_description="The access token expired"')
})

t.test('the seeds\' expiry check: a token from a service with ACCESS_TOKEN_TTL=2 is refused after 3 seconds', async t => {
  const app = await build(t, { ACCESS_TOKEN_TTL: '2' })
  const user = await register(app)
  const issued = await token(app, user.username)
  t.equal(issued.expires_in, 2)
  const { iat, exp } = decodeJwt(issued.access_token).payload
  t.equal(exp - iat, 2)
  // Used while valid, so that the service has it among the tokens it verified already.
  t.equal((await get(app, '/secure-data', `Bearer ${issued.access_token}`)).statusCode, 200)
  await sleep(3000)
  const res = await get(app, '/secure-data', `Bearer ${issued.access_token}`)
  t.equal(res.statusCode, 401)
  t.equal(res.json().message, 'The access token expired')
})

t.test('a token that claims to live longer than ACCESS_TOKEN_TTL is refused once the TTL has passed, though it was accepted before', async t => {
  const app = await build(t, { ...HS256, ACCESS_TOKEN_TTL: '2' })
  const now = Math.floor(Date.now() / 1000)
  const longLived = `Bearer ${forge(HEADER, claims({ iat: now, exp: now + 3600 }))}`
  t.equal((await get(app, '/secure-data', longLived)).statusCode, 200)
  await sleep(3000)
  const res = await get(app, '/secure-data', longLived)
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate']?.includes('error="invalid_token"'), true)
})

t.test('the issuer and audience are the configured ones, and nothing else is accepted', async t => {
  const app = await build(t, { ...HS256, JWT_ISSUER: 'https://auth.example.com', JWT_AUDIENCE: 'orders-api' })
  const user = await register(app)
  const issued = await token(app, user.username)
  t.match(decodeJwt(issued.access_token).payload, { iss: 'https://auth.example.com', aud: 'orders-api' })
  t.equal((await get(app, '/secure-data', `Bearer ${issued.access_token}`)).statusCode, 200)
  t.equal((await get(app, '/secure-data', `Bearer ${forge(HEADER, claims())}`)).statusCode, 401, 'the defaults are not accepted')
  t.equal((await get(app, '/secure-data', `Bearer ${forge(HEADER, claims({ iss: 'https://auth.example.com', aud: 'orders-api' }))}`)).statusCode, 200)
})
