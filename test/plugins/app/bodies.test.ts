// Hostile bodies: each gets a 4xx with a stable code, and nothing reaches the database.
import { connect } from 'node:net'
import { once } from 'node:events'
import t from 'tap'
import { build, newUser, PASSWORD, register, type App } from '../../helper.js'

const raw = (app: App, url: string, contentType: string, payload: string | Buffer) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload })

t.test('prototype poisoning keys are a 400', async t => {
  const app = await build(t)
  const user = newUser()
  const cases = [
    `{"username":"${user.username}","email":"${user.email}","password":"${PASSWORD}","__proto__":{"roles":["admin"]}}`,
    `{"username":"${user.username}","email":"${user.email}","password":"${PASSWORD}","constructor":{"prototype":{"roles":["admin"]}}}`
  ]
  for (const body of cases) {
    const res = await raw(app, '/auth/register', 'application/json', body)
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'invalid_request')
  }
  for (const field of ['__proto__', 'constructor', 'prototype']) {
    const res = await raw(app, '/auth/token', 'application/x-www-form-urlencoded', `username=a&password=b&${field}=x`)
    t.equal(res.statusCode, 400, field)
    t.same(res.json(), { error: 'invalid_request', error_description: `A form field may not be called ${field}` })
  }
  t.equal(await app.store.prisma.user.count(), 0)
  t.equal(({} as Record<string, unknown>).roles, undefined, 'nothing was polluted')
})

t.test('deep and huge JSON: a 400 or a 413, never a 500', async t => {
  const app = await build(t)
  const deep = '['.repeat(8000) + ']'.repeat(8000)
  t.equal((await raw(app, '/auth/register', 'application/json', deep)).statusCode, 400)
  const deepObject = '{"a":'.repeat(2500) + '1' + '}'.repeat(2500)
  t.equal((await raw(app, '/auth/token', 'application/json', deepObject)).statusCode, 400)
  const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i])))
  t.equal((await raw(app, '/auth/register', 'application/json', wide)).statusCode, 400)
  const huge = await raw(app, '/auth/register', 'application/json', JSON.stringify({ ...newUser(), password: 'x'.repeat(20_000) }))
  t.equal(huge.statusCode, 413)
  t.equal(huge.json().error, 'payload_too_large')
})

t.test('invalid UTF-8 is refused, never silently replaced', async t => {
  const app = await build(t)
  const user = await register(app)
  // "pass\xff word": bad byte inside a JSON string.
  const bad = Buffer.concat([Buffer.from(`{"username":"${user.username}","password":"${PASSWORD.slice(0, 4)}`), Buffer.from([0xff]), Buffer.from(`${PASSWORD.slice(4)}"}`)])
  const res = await raw(app, '/auth/token', 'application/json', bad)
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: 'invalid_request', error_description: 'The body is not valid UTF-8' })
  const registration = await raw(app, '/auth/register', 'application/json', Buffer.concat([Buffer.from('{"username":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('bc","email":"x@example.com","password":"long enough pass"}')]))
  t.equal(registration.statusCode, 400)

  for (const form of ['username=a&password=%C3%28', 'username=a&password=%FF', `username=a&password=${'é'}`]) {
    const formRes = await raw(app, '/auth/token', 'application/x-www-form-urlencoded', form)
    t.equal(formRes.statusCode, 400, form)
    t.equal(formRes.json().error, 'invalid_request')
  }
  const good = await raw(app, '/auth/token', 'application/x-www-form-urlencoded', `username=${user.username}&password=${encodeURIComponent(PASSWORD)}`)
  t.equal(good.statusCode, 200, 'well-formed percent-encoding still works')
})

t.test('wrong content types are a 415 everywhere', async t => {
  const app = await build(t)
  for (const url of ['/auth/register', '/auth/token', '/auth/refresh', '/auth/revoke', '/auth/login']) {
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream']) {
      const res = await raw(app, url, type, 'x')
      t.equal(res.statusCode, 415, `${url} ${type}`)
      t.equal(res.json().error, 'unsupported_media_type')
    }
  }
})

t.test('absurd headers: 431 from the server itself, in the usual shape', async t => {
  const app = await build(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`)
  let answer = ''
  socket.on('data', chunk => { answer += chunk })
  await once(socket, 'close')
  t.match(answer, /^HTTP\/1.1 431 /)
  t.match(answer, /\{"error":"headers_too_large","message":"The HTTP request could not be read"\}$/)
})
