// Traces, with the SDK's in-memory exporter: the spans of a login and of a refresh (the request,
// its handler, the Prisma queries), a caller's trace continued, the trace id in every log line
// of the request, and no password, token or cookie anywhere in a span.
import { Writable } from 'node:stream'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace'
import t from 'tap'
import { PASSWORD, Browser, build, onPostgres, register, token } from '../helper.js'
import { startTracing } from '../../src/telemetry/tracing.js'

const exporter = new InMemorySpanExporter()
const tracing = startTracing({ exporter })
t.teardown(() => tracing.shutdown())

function logLines () {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done() } })
  return { lines, stream }
}

// Everything a span carries that a backend shows: name, attributes, events, status, resource.
const shown = (spans: readonly ReadableSpan[]) => JSON.stringify(spans.map(span => ({
  name: span.name,
  attributes: span.attributes,
  events: span.events,
  status: span.status,
  links: span.links,
  resource: span.resource.attributes
})))

t.test('a login and a refresh: a server span each, named by route, with the handler and the queries beneath', async t => {
  const { lines, stream } = logLines()
  const app = await build(t, { LOG_LEVEL: 'info' }, { tracing, logStream: stream })
  const user = await register(app)
  exporter.reset()

  const tokens = await token(app, user.username)
  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } })
  t.equal(refreshed.statusCode, 200)
  const spans = exporter.getFinishedSpans()

  const server = (name: string) => spans.find(span => span.name === name && span.parentSpanContext === undefined)
  const login = server('POST /auth/token')
  const rotation = server('POST /auth/refresh')
  if (login === undefined || rotation === undefined) return t.fail(`no request spans: ${spans.map(s => s.name).join(', ')}`)
  t.equal(login.attributes['http.route'], '/auth/token')
  t.equal(login.attributes['http.response.status_code'], 200)
  t.equal(login.attributes['url.path'], '/auth/token')
  t.equal(login.resource.attributes['service.name'], 'authd')
  const within = (root: ReadableSpan) => spans.filter(span => span !== root && span.spanContext().traceId === root.spanContext().traceId)
  t.ok(within(login).some(span => span.name.startsWith('handler')), 'the handler\'s span')
  t.ok(within(login).some(span => span.name.startsWith('prisma:')), 'the queries\' spans, in the same trace')
  // The rotation is one of the store's own statements, past Prisma.
  const statement = within(rotation).find(span => span.name === `${onPostgres ? 'postgresql' : 'sqlite'} rotate`)
  t.equal(statement?.attributes['db.operation.name'], 'rotate')
  t.equal(statement?.parentSpanContext?.traceId, rotation.spanContext().traceId)

  const secrets = [PASSWORD, tokens.access_token, tokens.refresh_token, refreshed.json().refresh_token, refreshed.json().access_token]
  const text = shown(spans)
  for (const secret of secrets) t.notOk(text.includes(secret), 'no password or token in any span')

  // Every line the login logged carries its trace.
  const traceId = login.spanContext().traceId
  const loginLines = lines.filter(line => line.trace_id === traceId)
  t.ok(loginLines.some(line => line.msg === 'incoming request'))
  t.ok(loginLines.some(line => line.msg === 'request completed'))
  const reqIds = new Set(loginLines.map(line => line.reqId))
  t.equal(reqIds.size, 1)
  t.same(lines.filter(line => reqIds.has(line.reqId) && line.trace_id !== traceId), [], 'no line of that request without it')
})

t.test('a traceparent header continues the caller\'s trace', async t => {
  const app = await build(t, {}, { tracing })
  exporter.reset()
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
  const parent = '00f067aa0ba902b7'
  t.equal((await app.inject({ url: '/.well-known/jwks.json', headers: { traceparent: `00-${traceId}-${parent}-01` } })).statusCode, 200)
  t.equal((await app.inject({ url: '/health' })).statusCode, 200)
  t.notOk(exporter.getFinishedSpans().some(s => s.name === 'GET /health'), 'the probes make no trace')
  const span = exporter.getFinishedSpans().find(s => s.name === 'GET /.well-known/jwks.json')
  t.equal(span?.spanContext().traceId, traceId)
  t.equal(span?.parentSpanContext?.spanId, parent)
})

t.test('what an attacker sends never reaches a span: a query string, a body that is not JSON, a cookie, a bearer token', async t => {
  const app = await build(t, {}, { tracing })
  const user = await register(app)
  const browser = new Browser(app)
  await browser.login(user.username)
  exporter.reset()

  const mailToken = 'a-mailed-token-in-the-query-string'
  await app.inject({ url: `/auth/password-reset?token=${mailToken}` })
  const broken = `{"username": "${user.username}", "password": ${PASSWORD}}`
  const refused = await app.inject({ method: 'POST', url: '/auth/token', headers: { 'content-type': 'application/json' }, payload: broken })
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().error, 'invalid_request')
  t.notMatch(refused.body, 'battery', 'not even echoed to the client')
  const access = (await token(app, user.username)).access_token
  t.equal((await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${access}` } })).statusCode, 200)
  t.equal((await browser.request('GET', '/auth/me')).statusCode, 200)

  const spans = exporter.getFinishedSpans()
  t.ok(spans.some(span => span.attributes['url.path'] === '/auth/password-reset'), 'the path, without its query')
  const text = shown(spans)
  for (const secret of [mailToken, 'battery staple', access, ...browser.jar.values(), browser.csrfToken as string]) {
    t.notOk(text.includes(secret), 'nothing secret in any span')
  }
})
