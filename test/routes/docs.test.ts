import t from 'tap'
import { build } from '../helper.js'

t.test('GET /docs serves Swagger UI', async t => {
  const app = await build(t)
  let res = await app.inject('/docs')
  if (res.statusCode === 302) res = await app.inject(res.headers.location as string)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, /swagger/i)
})

t.test('Swagger UI serves its own folder and nothing outside it, with errors in the service\'s shape', async t => {
  const app = await build(t)
  const file = await app.inject('/docs/static/swagger-ui.css')
  t.equal(file.statusCode, 200)
  t.match(file.headers['content-type'], /text\/css/)
  // Given its folder (src/plugins/external/swagger.ts), the plugin also answers GET /docs/*.
  t.equal((await app.inject('/docs/swagger-ui.css')).body, file.body)

  for (const prefix of ['/docs/', '/docs/static/']) {
    for (const path of ['../package.json', '%2e%2e/package.json', '..%2fpackage.json', '..%2f..%2f..%2fpackage.json',
      '%2e%2e%2f%2e%2e%2fpackage.json', '....//package.json', '%5c..%5cpackage.json', '..%5c..%5cpackage.json',
      '%252e%252e%252fpackage.json', '..%00/package.json', 'nothing-here.js']) {
      const res = await app.inject(prefix + path)
      t.ok(res.statusCode === 403 || res.statusCode === 404 || res.statusCode === 400, `${prefix}${path}: ${res.statusCode}`)
      t.notMatch(res.body, /"dependencies"|"devDependencies"/, `${prefix}${path} does not serve a package.json`)
      t.match(res.json(), { error: /^(forbidden|not_found|invalid_request)$/, message: String }, `${prefix}${path} answers in the service's shape`)
    }
  }
})

t.test('GET /docs/json: OpenAPI 3 with both security schemes and a schema for every route', async t => {
  const app = await build(t)
  const res = await app.inject('/docs/json')
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.match(doc.openapi, /^3\./)
  t.same(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
  t.equal(doc.components.securitySchemes.oauth2.flows.password.tokenUrl, '/auth/token')
  t.ok(doc.components.securitySchemes.oauth2.flows.password.scopes['users:read'])

  const expected = ['/auth/register', '/auth/token', '/auth/refresh', '/auth/login', '/auth/csrf', '/auth/revoke', '/auth/me', '/auth/logout',
    '/auth/logout-all', '/auth/password', '/auth/sessions', '/auth/sessions/{id}', '/secure-data', '/health', '/ready',
    '/admin/users', '/admin/users/{id}', '/admin/users/{id}/sessions/revoke', '/admin/audit']
  t.same(expected.filter(p => doc.paths[p] === undefined), [], 'every route is documented')
  const withoutBody = new Set(['post /auth/logout', 'post /auth/logout-all', 'post /admin/users/{id}/sessions/revoke', 'post /admin/users/{id}/password-reset', 'post /auth/mfa/totp', 'post /auth/passkeys/register/options', 'post /auth/passkeys/login/options'])
  t.notOk(doc.paths['/'] ?? doc.paths['/app.js'], 'the page\'s files are not API routes')
  for (const [path, methods] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) {
      t.ok(op.responses['400'] ?? op.responses['401'] ?? method === 'get', `${method} ${path} documents its errors`)
      for (const [status, response] of Object.entries<any>(op.responses)) {
        if (status === '204') t.notOk(response.content, `${method} ${path} 204 has no body`)
        else t.ok(response.content?.['application/json']?.schema, `${method} ${path} ${status} has a response schema`)
      }
      if (method === 'post' && !withoutBody.has(`${method} ${path}`)) t.ok(op.requestBody?.content, `${method} ${path} documents its body`)
    }
  }
  const tokenBody = doc.paths['/auth/token'].post.requestBody.content
  t.ok(tokenBody['application/x-www-form-urlencoded'], 'the token endpoint takes forms')
  t.ok(tokenBody['application/json'], 'and JSON')
  t.same(doc.paths['/auth/me'].get.security, [{ bearerAuth: [] }, { oauth2: ['profile'] }])
})

t.test('the Swagger UI Authorize flow: a password-grant form at the tokenUrl', async t => {
  const app = await build(t)
  await app.inject({ method: 'POST', url: '/auth/register', payload: { username: 'swagger', email: 'swagger@example.com', password: 'swagger-password' } })
  // What Swagger UI posts for the OAuth2 password flow (client credentials in the body).
  const res = await app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json, text/plain, */*' },
    payload: 'grant_type=password&username=swagger&password=swagger-password&scope=profile&client_id=&client_secret='
  })
  t.equal(res.statusCode, 200)
  t.equal(res.json().scope, 'profile')
})
