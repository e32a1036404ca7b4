import { Writable } from 'node:stream'
import t from 'tap'
import { build, newUser, PASSWORD, register } from '../../helper.js'

t.test('a fault is a 500 that says nothing; the log keeps the cause under the request id', async t => {
  const lines: Array<Record<string, any>> = []
  const logStream = new Writable({ write (chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter(Boolean).map(l => JSON.parse(l))); done() } })
  const app = await build(t, { LOG_LEVEL: 'info' }, { logStream })
  const user = await register(app)
  await app.store.prisma.$executeRawUnsafe('DROP TABLE "RefreshToken"')

  const res = await app.inject({
    method: 'POST',
    url: '/auth/token',
    payload: { username: user.username, password: PASSWORD },
    headers: { 'x-request-id': 'chosen-by-client' }
  })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { error: 'internal_error', error_description: 'Internal Server Error' })
  t.notMatch(res.body, /RefreshToken|prisma|SQLITE|no such table|at \//i)
  t.equal(res.headers['cache-control'], 'no-store')
  const failure = lines.find(l => l.msg === 'request failed')
  t.ok(failure, 'the failure is logged')
  t.equal(failure?.level, 50)
  t.match(failure?.reqId, /^[0-9a-f-]{36}$/, 'under the request id the service chose, not the client\'s')
  t.match(JSON.stringify(failure?.err), /RefreshToken/, 'with the cause')
})

t.test('a body over 16 KiB is a 413 in the route\'s error shape', async t => {
  const app = await build(t)
  const big = 'x'.repeat(17 * 1024)
  const register = await app.inject({ method: 'POST', url: '/auth/register', payload: { ...newUser(), username: big } })
  t.equal(register.statusCode, 413)
  t.same(register.json(), { error: 'payload_too_large', message: 'Request body is too large' })
  const token = await app.inject({ method: 'POST', url: '/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `username=${big}` })
  t.equal(token.statusCode, 413)
  t.equal(token.json().error, 'payload_too_large')
  t.type(token.json().error_description, 'string')
  t.equal(await app.store.prisma.user.count(), 0)
})

t.test('a URL that cannot be decoded is a 400 in the usual shape, not a framework message', async t => {
  const app = await build(t)
  for (const url of ['/auth/%E0%A4%A', '/auth/register%']) {
    const res = await app.inject({ method: 'POST', url, payload: newUser() })
    t.equal(res.statusCode, 400, url)
    t.same(res.json(), { error: 'invalid_request', message: 'The URL is malformed or too long' })
  }
})

t.test('unknown routes: 404 not_found, without echoing the query string', async t => {
  const app = await build(t)
  const res = await app.inject({ url: '/nowhere?token=secret-value' })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { error: 'not_found', message: 'Route GET /nowhere not found' })
  const method = await app.inject({ method: 'PUT', url: '/auth/token' })
  t.equal(method.statusCode, 404)
})
