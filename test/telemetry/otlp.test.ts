// The service as it ships (the bundle, as a process), with OTEL_EXPORTER_OTLP_ENDPOINT pointing at
// a collector (a plain HTTP server here): the spans of a login reach it by OTLP/HTTP in protobuf,
// the trace id of the log lines is theirs, the spans waiting at SIGTERM are sent before the
// process exits, and no password or token is in what was sent. Protobuf carries strings and ids
// as raw bytes, so the body is searched as it came.
import { createServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { PASSWORD, tempDir, testEnv } from '../helper.js'
import { listening, post, startServer } from '../process.js'

t.test('a login\'s spans reach the collector by OTLP, with the trace id of its log lines and without its secrets', async t => {
  const received: Array<{ url: string | undefined, type: string | undefined, body: Buffer }> = []
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', chunk => chunks.push(chunk))
    req.on('end', () => {
      received.push({ url: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks) })
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
    })
  })
  collector.listen(0, '127.0.0.1')
  await once(collector, 'listening')
  t.teardown(() => collector.close())
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`

  const dir = tempDir(t)
  const proc = startServer(t, testEnv(dir, { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'authd-under-test' }), dir)
  const base = await listening(proc)
  t.equal((await post(base, '/auth/register', { username: 'traced', email: 'traced@example.com', password: PASSWORD })).status, 201)
  const login = await post(base, '/auth/token', { username: 'traced', password: PASSWORD })
  t.equal(login.status, 200)

  const lines = proc.out().split('\n').filter(Boolean).map(line => JSON.parse(line) as Record<string, string>)
  const tokenLines = lines.filter(line => line.msg === 'incoming request' && (line.req as unknown as { url: string }).url === '/auth/token')
  t.equal(tokenLines.length, 1)
  const traceId = tokenLines[0].trace_id
  t.match(traceId, /^[0-9a-f]{32}$/)
  t.ok(lines.filter(line => line.reqId === tokenLines[0].reqId).every(line => line.trace_id === traceId), 'every line of the request carries it')

  // The batch is sent at close at the latest.
  proc.child.kill('SIGTERM')
  const [code] = await proc.exited
  t.equal(code, 0, proc.err())
  t.ok(received.length > 0, 'the collector received spans')
  for (const request of received) {
    t.equal(request.url, '/v1/traces')
    t.equal(request.type, 'application/x-protobuf')
  }
  const sent = Buffer.concat(received.map(request => request.body))
  t.ok(sent.includes(Buffer.from(traceId, 'hex')), 'the login\'s trace is among them')
  t.ok(sent.includes(Buffer.from('POST /auth/token')), 'named by its route')
  t.ok(sent.includes(Buffer.from('authd-under-test')), 'OTEL_SERVICE_NAME names the service')
  for (const secret of [PASSWORD, login.body.access_token, login.body.refresh_token]) {
    t.notOk(sent.includes(Buffer.from(secret)), 'no password or token was sent')
  }
})

t.test('a collector that refuses the spans is named in the log; one that never answers does not hold the exit', async t => {
  // Refuses every export; then, accepts the connection and never answers.
  let answer = true
  const collector = createServer((req, res) => {
    req.resume()
    if (answer) req.on('end', () => res.writeHead(400).end('no'))
  })
  collector.listen(0, '127.0.0.1')
  await once(collector, 'listening')
  t.teardown(() => { collector.closeAllConnections(); collector.close() })
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`

  for (const refusing of [true, false]) {
    answer = refusing
    const dir = tempDir(t)
    const proc = startServer(t, testEnv(dir, { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }), dir)
    const base = await listening(proc)
    t.equal((await fetch(`${base}/.well-known/jwks.json`)).status, 200)
    const stopping = Date.now()
    proc.child.kill('SIGTERM')
    const [code] = await proc.exited
    t.equal(code, 0, proc.err())
    if (refusing) {
      t.match(proc.out(), /"level":40.*"msg":"opentelemetry: /, 'a warning names the failed export')
    } else {
      t.ok(Date.now() - stopping < 8000, `closed in ${Date.now() - stopping} ms, the unsent spans dropped`)
    }
  }
})
