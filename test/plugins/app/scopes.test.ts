import t from 'tap'
import { bearer, build, enableTotp, nextCode, PASSWORD, refresh, register, signedIn, signedInAdmin, token, tokenWithCode, type App } from '../../helper.js'

t.test('a token without the scope a route needs: 403 with the exact challenge', async t => {
  const app = await build(t)
  const { tokens } = await signedIn(app)
  const res = await app.inject({ url: '/admin/users', headers: bearer(tokens.access_token) })
  t.equal(res.statusCode, 403)
  t.same(res.json(), { error: 'insufficient_scope', message: 'This requires the scope users:read' })
  t.equal(res.headers['www-authenticate'], 'Bearer realm="authd", error="insufficient_scope", scope="users:read"')
})

t.test('scopes at login: the intersection of what was asked and what the roles grant', async t => {
  const app = await build(t)
  const { user, totp } = await signedInAdmin(app)
  const narrowed = await tokenWithCode(app, user.username, totp, { scope: 'users:read' })
  t.equal(narrowed.scope, 'users:read')
  t.equal((await app.inject({ url: '/admin/users', headers: bearer(narrowed.access_token) })).statusCode, 200)
  const me = await app.inject({ url: '/auth/me', headers: bearer(narrowed.access_token) })
  t.equal(me.statusCode, 403, 'a token narrowed away from profile cannot read the profile')
  t.equal(me.headers['www-authenticate'], 'Bearer realm="authd", error="insufficient_scope", scope="profile"')

  const plain = await register(app)
  const denied = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: plain.username, password: PASSWORD, scope: 'users:write' } })
  t.same(denied.json(), { error: 'invalid_scope', error_description: 'None of the requested scopes can be granted' })
})

t.test('the browser login takes a scope too', async t => {
  const app = await build(t)
  const { user, totp } = await signedInAdmin(app)
  const { Browser } = await import('../../helper.js')
  const browser = new Browser(app)
  await browser.request('GET', '/auth/csrf')
  const res = await browser.request('POST', '/auth/login', { payload: { username: user.username, password: PASSWORD, scope: 'profile' } })
  t.same(res.json(), { mfaRequired: true, methods: ['totp', 'recovery_code'] })
  t.equal((await browser.request('POST', '/auth/login/mfa', { payload: { code: nextCode(totp) } })).statusCode, 200)
  t.equal((await browser.request('GET', '/auth/me')).json().scopes.join(' '), 'profile')
  t.equal((await browser.request('GET', '/admin/users')).statusCode, 403)
})

t.test('after an admin removes a role, the next refresh carries fewer scopes', async t => {
  const app = await build(t)
  const boss = await signedInAdmin(app)
  const { user, tokens } = await signedInAdmin(app)
  t.equal(tokens.scope, 'profile users:read users:write sessions:revoke clients:read clients:write')
  const res = await app.inject({ method: 'PATCH', url: `/admin/users/${user.id}`, headers: bearer(boss.tokens.access_token), payload: { roles: ['user'] } })
  t.equal(res.statusCode, 200)
  const next = await refresh(app, tokens.refresh_token)
  t.equal(next.json().scope, 'profile')
  t.equal((await app.inject({ url: '/admin/users', headers: bearer(next.json().access_token) })).statusCode, 403)
})

/** A user made admin, without a second factor. */
async function admin (app: App) {
  const user = await register(app)
  await app.store.prisma.userRole.create({ data: { userId: user.id, role: 'admin' } })
  return user
}

t.test('the admin scopes need a second factor: a password alone gets the rest, and a 401 that says to step up', async t => {
  const app = await build(t)
  const { username } = await admin(app)
  const password = await token(app, username)
  t.equal(password.scope, 'profile', 'MFA_REQUIRED_SCOPES (the admin scopes, by default) withheld')
  const refused = await app.inject({ url: '/admin/users', headers: bearer(password.access_token) })
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().error, 'insufficient_user_authentication')
  t.equal(refused.headers['www-authenticate'], 'Bearer realm="authd", error="insufficient_user_authentication", error_description="This needs a session opened with a second factor; sign in again with it"')
  const asked = await app.inject({ method: 'POST', url: '/auth/token', payload: { username, password: PASSWORD, scope: 'users:read' } })
  t.equal(asked.json().error, 'invalid_scope', 'asked for alone, an admin scope cannot be had with a password')

  const totp = await enableTotp(app, password.access_token)
  const stepped = await tokenWithCode(app, username, totp)
  t.equal(stepped.scope, 'profile users:read users:write sessions:revoke clients:read clients:write')
  t.equal((await app.inject({ url: '/admin/users', headers: bearer(stepped.access_token) })).statusCode, 200)
  t.equal((await refresh(app, stepped.refresh_token)).json().scope, stepped.scope, 'a refresh keeps them: the session was opened with the code')

  const plain = await signedIn(app)
  await enableTotp(app, plain.tokens.access_token)
  const forged = await app.inject({ url: '/admin/users', headers: bearer(plain.tokens.access_token) })
  t.equal(forged.statusCode, 403, 'a user whom a second factor would not help: 403 insufficient_scope, not a step-up')
})

t.test('MFA_REQUIRED_SCOPES=none: the admin scopes with a password, as before', async t => {
  const app = await build(t, { MFA_REQUIRED_SCOPES: 'none' })
  const tokens = await token(app, (await admin(app)).username)
  t.equal(tokens.scope, 'profile users:read users:write sessions:revoke clients:read clients:write')
  t.equal((await app.inject({ url: '/admin/users', headers: bearer(tokens.access_token) })).statusCode, 200)
})

t.test('MFA_REQUIRED_SCOPES=users:write: only that one waits for the second factor', async t => {
  const app = await build(t, { MFA_REQUIRED_SCOPES: 'users:write' })
  const { id, username } = await admin(app)
  const tokens = await token(app, username)
  t.equal(tokens.scope, 'profile users:read sessions:revoke clients:read clients:write')
  t.equal((await app.inject({ url: '/admin/users', headers: bearer(tokens.access_token) })).statusCode, 200)
  t.equal((await app.inject({ method: 'PATCH', url: `/admin/users/${id}`, headers: bearer(tokens.access_token), payload: { disabled: false } })).statusCode, 401)
})

t.test('the OpenAPI document shows the scopes each route needs', async t => {
  const app = await build(t)
  const doc = (await app.inject('/docs/json')).json()
  t.same(doc.paths['/admin/users'].get.security, [{ bearerAuth: [] }, { oauth2: ['users:read'] }])
  t.same(doc.paths['/admin/users/{id}'].patch.security, [{ bearerAuth: [] }, { oauth2: ['users:write'] }])
  t.same(doc.paths['/admin/users/{id}/sessions/revoke'].post.security, [{ bearerAuth: [] }, { oauth2: ['sessions:revoke'] }])
  t.same(doc.paths['/auth/me'].get.security, [{ bearerAuth: [] }, { oauth2: ['profile'] }])
  t.same(doc.paths['/secure-data'].get.security, [{ bearerAuth: [] }, { oauth2: [] }])
  t.match(doc.paths['/admin/audit'].get.description, /Requires the scope users:read/)
  t.match(doc.paths['/auth/me'].get.description, /a machine client's gets 403 user_required/)
  t.match(doc.paths['/admin/clients'].post.description, /Requires the scope clients:write\. A user's token or a machine client's\./)
  t.same(Object.keys(doc.components.securitySchemes.oauth2.flows), ['password', 'clientCredentials'], 'Swagger UI can get a token as a machine client')
  t.notOk(doc.paths['/auth/token'].post.security, 'open routes need nothing')
})
