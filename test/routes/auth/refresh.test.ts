import t from 'tap'
import { bearer, build, decodeJwt, PASSWORD, refresh, register, signedIn, statusWith, token } from '../../helper.js'

t.test('a refresh rotates: new access token, next refresh token, the old one used up; only hashes stored', async t => {
  const app = await build(t)
  const { tokens } = await signedIn(app)
  const res = await refresh(app, tokens.refresh_token)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const next = res.json()
  t.same(Object.keys(next).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.match(next.refresh_token, /^[A-Za-z0-9_-]{43}$/)
  t.not(next.refresh_token, tokens.refresh_token)
  const before = decodeJwt(tokens.access_token).payload
  const after = decodeJwt(next.access_token).payload
  t.equal(after.sid, before.sid, 'same session')
  t.not(after.jti, before.jti)
  t.equal(await statusWith(app, next.access_token), 200)

  const rows = await app.store.prisma.refreshToken.findMany({ where: { sessionId: before.sid }, orderBy: { createdAt: 'asc' } })
  t.equal(rows.length, 2)
  t.ok(rows[0].usedAt, 'the first token is used up')
  t.equal(rows[1].usedAt, null)
  const stored = JSON.stringify(rows)
  t.notOk(stored.includes(tokens.refresh_token) || stored.includes(next.refresh_token), 'no token in clear in the database')

  const session = await app.store.prisma.session.findUniqueOrThrow({ where: { id: before.sid } })
  t.ok(session.lastUsedAt.getTime() > session.createdAt.getTime() - 1)
})

t.test('grant_type=refresh_token at the token endpoint, form-encoded', async t => {
  const app = await build(t)
  const { tokens } = await signedIn(app)
  const res = await app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }).toString()
  })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.not(res.json().refresh_token, tokens.refresh_token)
  const missing = await app.inject({ method: 'POST', url: '/auth/token', payload: { grant_type: 'refresh_token' } })
  t.same(missing.json(), { error: 'invalid_request', error_description: 'refresh_token is required' })
})

t.test('inside the grace window a second use succeeds, with the very same next token', async t => {
  const app = await build(t)
  const { tokens } = await signedIn(app)
  const first = (await refresh(app, tokens.refresh_token)).json()
  const retry = await refresh(app, tokens.refresh_token)
  t.equal(retry.statusCode, 200)
  t.equal(retry.json().refresh_token, first.refresh_token, 'one chain, not two')
  t.equal(await statusWith(app, retry.json().access_token), 200)
  const sid = decodeJwt(first.access_token).payload.sid
  t.equal(await app.store.prisma.refreshToken.count({ where: { sessionId: sid, usedAt: null } }), 1)
  t.equal((await refresh(app, first.refresh_token)).statusCode, 200, 'and the chain goes on')
})

t.test('20 parallel refreshes with one token: all answered, one next token, the session intact', async t => {
  const app = await build(t)
  const { tokens } = await signedIn(app)
  const replies = await Promise.all(Array.from({ length: 20 }, () => refresh(app, tokens.refresh_token)))
  t.same(replies.map(r => r.statusCode), Array(20).fill(200))
  const nexts = new Set(replies.map(r => r.json().refresh_token))
  t.equal(nexts.size, 1, 'every reply carries the same next token')
  const sid = decodeJwt(tokens.access_token).payload.sid
  const rows = await app.store.prisma.refreshToken.findMany({ where: { sessionId: sid } })
  t.equal(rows.length, 2)
  t.equal(rows.filter(r => r.usedAt === null).length, 1)
  t.equal((await app.store.prisma.session.findUniqueOrThrow({ where: { id: sid } })).revokedAt, null)
  t.equal((await refresh(app, [...nexts][0])).statusCode, 200)
})

t.test('a reuse after the grace window ends the whole session at once', async t => {
  const app = await build(t, { REFRESH_REUSE_GRACE: '0' })
  const { tokens } = await signedIn(app)
  const other = await token(app, (await register(app)).username)
  const next = (await refresh(app, tokens.refresh_token)).json()
  t.equal(await statusWith(app, next.access_token), 200)
  await new Promise(resolve => setTimeout(resolve, 5))

  const replay = await refresh(app, tokens.refresh_token)
  t.equal(replay.statusCode, 400)
  t.same(replay.json(), { error: 'invalid_grant', message: 'The refresh token is invalid' })

  const sid = decodeJwt(tokens.access_token).payload.sid
  t.ok((await app.store.prisma.session.findUniqueOrThrow({ where: { id: sid } })).revokedAt, 'the session is revoked')
  t.ok(await app.store.prisma.deniedToken.findUnique({ where: { kind_value: { kind: 'sid', value: sid } } }), 'its id is denied')
  t.equal(await statusWith(app, next.access_token), 401, 'the live access token is refused on its next request')
  t.equal(await statusWith(app, tokens.access_token), 401)
  t.equal((await refresh(app, next.refresh_token)).statusCode, 400, 'the legitimate next token is dead too')
  t.equal(await statusWith(app, other.access_token), 200, 'other sessions are untouched')
})

t.test('type confusion, unknown, expired, revoked and disabled: invalid_grant or 401', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)

  t.equal((await refresh(app, tokens.access_token)).json().error, 'invalid_grant', 'an access token is no refresh token')
  const asBearer = await app.inject({ url: '/secure-data', headers: bearer(tokens.refresh_token) })
  t.equal(asBearer.statusCode, 401, 'a refresh token is no access token')
  t.equal(asBearer.json().error, 'invalid_token')
  t.equal((await refresh(app, 'A'.repeat(43))).json().error, 'invalid_grant', 'unknown')

  const expired = await token(app, user.username)
  await app.store.prisma.refreshToken.updateMany({ where: { session: { id: decodeJwt(expired.access_token).payload.sid } }, data: { expiresAt: new Date(Date.now() - 1000) } })
  t.equal((await refresh(app, expired.refresh_token)).statusCode, 400, 'expired')

  const ended = await token(app, user.username)
  await app.store.prisma.session.update({ where: { id: decodeJwt(ended.access_token).payload.sid }, data: { expiresAt: new Date(Date.now() - 1000) } })
  t.equal((await refresh(app, ended.refresh_token)).statusCode, 400, 'the session reached its absolute lifetime')

  await app.store.prisma.user.update({ where: { id: user.id }, data: { disabled: true } })
  t.equal((await refresh(app, tokens.refresh_token)).json().error, 'invalid_grant', 'disabled user')

  for (const payload of [{ refresh_token: 42 }, { refresh_token: '' }, { refresh_token: tokens.refresh_token, extra: 1 }]) {
    t.equal((await app.inject({ method: 'POST', url: '/auth/refresh', payload })).json().error, 'invalid_request')
  }
  const none = await app.inject({ method: 'POST', url: '/auth/refresh', payload: {} })
  t.same(none.json(), { error: 'invalid_grant', message: 'No refresh token was sent' }, 'no body token and no cookie')
})

t.test('no token outlives the session: refresh token and access token are capped at its end', async t => {
  const app = await build(t, { SESSION_TTL: '60', REFRESH_TOKEN_TTL: '3600', ACCESS_TOKEN_TTL: '900' })
  const { tokens } = await signedIn(app)
  t.ok(tokens.expires_in <= 60 && tokens.expires_in >= 58, `expires_in ${tokens.expires_in}`)
  const claims = decodeJwt(tokens.access_token).payload
  const session = await app.store.prisma.session.findUniqueOrThrow({ where: { id: claims.sid }, include: { refreshTokens: true } })
  t.ok(claims.exp * 1000 <= session.expiresAt.getTime())
  t.ok(session.refreshTokens[0].expiresAt.getTime() <= session.expiresAt.getTime())
  const next = (await refresh(app, tokens.refresh_token)).json()
  t.ok(decodeJwt(next.access_token).payload.exp * 1000 <= session.expiresAt.getTime())
})

t.test('a refresh keeps the session\'s scopes: it may narrow them, never widen them', async t => {
  // The admin scopes with a password alone: this is about narrowing (the second factor's part is
  // in test/plugins/app/scopes.test.ts).
  const app = await build(t, { MFA_REQUIRED_SCOPES: 'none' })
  const user = await register(app)
  await app.store.prisma.userRole.create({ data: { userId: user.id, role: 'admin' } })
  const narrow = await token(app, user.username, PASSWORD, { scope: 'profile users:read' })

  const narrower = await refresh(app, narrow.refresh_token, { scope: 'users:read' })
  t.equal(narrower.json().scope, 'users:read')
  const again = await refresh(app, narrower.json().refresh_token)
  t.equal(again.json().scope, 'profile users:read', 'without scope: the session\'s, not the last narrowed one')

  const wider = await refresh(app, again.json().refresh_token, { scope: 'users:write' })
  t.same(wider.json(), { error: 'invalid_scope', message: 'None of the requested scopes can be granted' })
  const unspent = await refresh(app, again.json().refresh_token)
  t.equal(unspent.statusCode, 200, 'a refused scope does not use the token up')

  await app.store.prisma.userRole.delete({ where: { userId_role: { userId: user.id, role: 'admin' } } })
  const demoted = await refresh(app, unspent.json().refresh_token)
  t.equal(demoted.json().scope, 'profile', 'after losing a role, the next refresh carries fewer scopes')
})

t.test('rotations are limited per session: 429 with Retry-After, the token kept, no row written', async t => {
  const app = await build(t, { RATE_LIMIT_REFRESH: '5' })
  const { tokens } = await signedIn(app)
  const other = await signedIn(app)
  // The clock stands still, then moves by hand.
  const now = Date.now
  t.teardown(() => { Date.now = now })
  const start = now()
  Date.now = () => start
  const sid = decodeJwt(tokens.access_token).payload.sid
  let current = tokens.refresh_token
  let previous = current
  for (let i = 0; i < 5; i++) {
    const res = await refresh(app, current)
    t.equal(res.statusCode, 200, `rotation ${i + 1}`)
    previous = current
    current = res.json().refresh_token
  }
  t.equal((await refresh(app, previous)).statusCode, 200, 'a retry inside the grace window is no rotation: not counted')
  const limited = await refresh(app, current)
  t.equal(limited.statusCode, 429)
  t.same(limited.json(), { error: 'rate_limited', message: 'Too many attempts; retry in 12 s' })
  t.equal(limited.headers['retry-after'], '12', 'one rotation every 12 s at 5 a minute')
  const form = await app.inject({ method: 'POST', url: '/auth/token', payload: { grant_type: 'refresh_token', refresh_token: current } })
  t.equal(form.statusCode, 429)
  t.equal(form.json().error, 'rate_limited', 'the token endpoint, in its own error shape')
  t.ok(form.json().error_description)
  t.equal(await app.store.prisma.refreshToken.count({ where: { sessionId: sid } }), 6, 'the login\'s token and five rotations: nothing more written')
  t.equal((await refresh(app, other.tokens.refresh_token)).statusCode, 200, 'other sessions are not affected')

  // Twelve seconds on, the refused token works: it was never used up.
  Date.now = () => start + 12_000
  t.equal((await refresh(app, current)).statusCode, 200)
})
