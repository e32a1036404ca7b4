import t from 'tap'
import { build, claims, forge, refresh, signedIn, statusWith, type App } from '../../helper.js'

const revoke = (app: App, fields: Record<string, string>, form = true) => app.inject({
  method: 'POST',
  url: '/auth/revoke',
  ...(form
    ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() }
    : { payload: fields })
})

t.test('revoking a refresh token ends its session: access tokens included', async t => {
  const app = await build(t)
  for (const hint of [undefined, 'refresh_token', 'access_token']) {
    const { tokens } = await signedIn(app)
    const res = await revoke(app, { token: tokens.refresh_token, ...(hint !== undefined && { token_type_hint: hint }) })
    t.equal(res.statusCode, 200, `hint ${hint}`)
    t.same(res.json(), {})
    t.equal((await refresh(app, tokens.refresh_token)).statusCode, 400)
    t.equal(await statusWith(app, tokens.access_token), 401, 'the session\'s access token too')
  }
})

t.test('revoking an access token denies that token only', async t => {
  const app = await build(t)
  for (const [hint, form] of [['access_token', true], [undefined, false], ['refresh_token', true]] as const) {
    const { tokens } = await signedIn(app)
    const res = await revoke(app, { token: tokens.access_token, ...(hint !== undefined && { token_type_hint: hint }) }, form)
    t.equal(res.statusCode, 200)
    t.equal(await statusWith(app, tokens.access_token), 401, `hint ${hint}`)
    const next = await refresh(app, tokens.refresh_token)
    t.equal(next.statusCode, 200, 'the session goes on')
    t.equal(await statusWith(app, next.json().access_token), 200)
  }
})

t.test('unknown, forged or expired tokens: 200 and nothing happens; no token at all: invalid_request', async t => {
  const app = await build(t)
  const { tokens } = await signedIn(app)
  const now = Math.floor(Date.now() / 1000)
  for (const token of ['unknown', 'A'.repeat(43), 'a.b.c', forge({ alg: 'HS256', typ: 'at+jwt' }, claims({ iat: now - 2000, exp: now - 1000 }))]) {
    const res = await revoke(app, { token })
    t.equal(res.statusCode, 200, token.slice(0, 12))
  }
  t.equal(await app.store.prisma.deniedToken.count(), 0)
  t.equal(await statusWith(app, tokens.access_token), 200)

  const missing = await revoke(app, {})
  t.equal(missing.statusCode, 400)
  t.same(missing.json(), { error: 'invalid_request', error_description: 'token is required' })
})
