// What the logs must never hold, checked on the log output itself.
import { connect } from 'node:net'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import t from 'tap'
import { build, PASSWORD, newUser } from './helper.js'

t.test('logs are JSON with request ids and hold no password, token or credential header', async t => {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done() } })
  const app = await build(t, { LOG_LEVEL: 'trace' }, { logStream })

  const user = newUser()
  await app.inject({ method: 'POST', url: '/auth/register', payload: user })
  const login = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })
  const accessToken = login.json().access_token as string
  await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: 'wrong-password-123' } })
  await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${accessToken}`, cookie: 'session=cookie-secret-value' } })
  await app.inject({ url: `/secure-data?access_token=${accessToken}&page=2` })
  await app.inject({ url: `/secure-data?%61ccess_token=${accessToken}` })
  await app.inject({ url: `/nowhere?token=${accessToken}&pass%77ord=${PASSWORD}` })
  await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${accessToken}x` } })
  // V8's message for a body that is not JSON quotes the text around the fault (the password here):
  // Fastify answers with one of its own, which is what reaches the log.
  const broken = await app.inject({ method: 'POST', url: '/auth/token', headers: { 'content-type': 'application/json' }, payload: `{"username": "${user.username}", "password": ${PASSWORD}}` })
  t.equal(broken.statusCode, 400)
  t.equal(broken.json().error, 'invalid_request')

  // Malformed HTTP never reaches a route; its raw bytes must not reach the log either.
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`GET /secure-data HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${accessToken}\r\nCookie: s=cookie-secret-value\r\nBad Header Line\r\n\r\n`)
  let raw = ''
  socket.on('data', chunk => { raw += chunk })
  await once(socket, 'close')
  t.match(raw, /^HTTP\/1.1 400 Bad Request\r\n/)
  t.match(raw, /\r\n\r\n\{"error":"invalid_request","message":"The HTTP request could not be read"\}$/)

  t.ok(lines.some(line => line.includes('"msg":"client error"')), 'the malformed request was logged, without its bytes')
  t.ok(lines.length > 10)
  const entries = lines.map(line => JSON.parse(line))
  const requestLines = entries.filter(e => e.req !== undefined || e.res !== undefined)
  t.ok(requestLines.length >= 14)
  for (const entry of requestLines) t.match(entry.reqId, /^[0-9a-f-]{36}$/, 'every request line carries its id')

  const everything = lines.join('\n')
  const [, , signature] = accessToken.split('.')
  // (V8 quotes ten characters of it: "correct ho".)
  for (const secret of [PASSWORD, PASSWORD.slice(0, 10), 'wrong-password-123', accessToken, signature, 'cookie-secret-value']) {
    t.notOk(everything.includes(secret), `the logs do not contain ${secret.slice(0, 12)}…`)
  }
  t.notMatch(everything, /authorization|set-cookie|rawPacket/i)
  t.ok(entries.some(e => e.req?.url === '/secure-data'), 'URLs are logged without their query string')
  t.notOk(entries.some(e => typeof e.req?.url === 'string' && e.req.url.includes('?')))
})
