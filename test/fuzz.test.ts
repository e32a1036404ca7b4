// Property-based: every route of the OpenAPI document, driven with generated malformed requests
// (bodies of every shape and content type, odd paths, query strings, credentials). Whatever
// comes in, the answer is never a 5xx, and every error has the documented shape.
import t from 'tap'
import fc from 'fast-check'
import { Browser, build, signedIn, signedInAdmin } from './helper.js'
import { createAjv } from '../src/validation.js'
import { ErrorReply, OAuthErrorReply } from '../src/schemas/common.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000)

t.test(`${RUNS} malformed requests: no 5xx, and a well-formed error every time`, async t => {
  const app = await build(t)
  const ajv = createAjv(false)
  const isError = ajv.compile(ErrorReply)
  const isOAuthError = ajv.compile(OAuthErrorReply)

  const doc = (await app.inject('/docs/json')).json() as { paths: Record<string, Record<string, unknown>> }
  const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map(method => ({ method: method.toUpperCase(), path })))
  t.ok(routes.length >= 20, `${routes.length} documented routes`)

  // Credentials of every kind, so that protected routes are reached past authentication too.
  const user = await signedIn(app)
  const admin = await signedInAdmin(app)
  const browser = new Browser(app)
  await browser.login(user.user.username)
  const cookie = [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const credentials: Array<Record<string, string>> = [
    {},
    { authorization: `Bearer ${user.tokens.access_token}` },
    { authorization: `Bearer ${admin.tokens.access_token}` },
    { authorization: 'Bearer not.a.token' },
    { authorization: 'Basic Zm9vOmJhcg==' },
    { cookie, 'x-csrf-token': browser.csrfToken as string, origin: 'http://localhost:80' },
    { cookie: '__Host-access=garbage; __Secure-refresh=%%%' }
  ]

  const text = fc.string({ maxLength: 40, unit: 'binary' })
  const scalar = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null))
  // Mostly strings, as valid requests have them, so that the handlers behind validation are
  // reached; sometimes anything at all.
  const value = fc.oneof({ weight: 4, arbitrary: text }, scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(text, scalar, { maxKeys: 2 }))
  const known = ['username', 'email', 'password', 'grant_type', 'scope', 'refresh_token', 'token', 'token_type_hint',
    'roles', 'disabled', 'currentPassword', 'newPassword']
  const fields = fc.tuple(
    fc.record(Object.fromEntries(known.map(key => [key, key === 'grant_type'
      ? fc.oneof(fc.constantFrom('password', 'refresh_token', ''), value)
      : value])), { requiredKeys: [] }),
    fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'client_id'), text), value, { maxKeys: 2 })
  ).map(([some, extra]) => ({ ...extra, ...some }) as Record<string, unknown>)
  const body = fc.oneof(
    fields.map(f => ({ type: 'application/json', payload: JSON.stringify(f) as string | Buffer })),
    fc.jsonValue({ maxDepth: 4 }).map(v => ({ type: 'application/json', payload: JSON.stringify(v) ?? 'null' })),
    fields.map(f => ({ type: 'application/x-www-form-urlencoded', payload: new URLSearchParams(Object.entries(f).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)])).toString() })),
    fc.record({
      type: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1'),
      payload: fc.oneof(text, fc.uint8Array({ maxLength: 120 }).map(bytes => Buffer.from(bytes)))
    }),
    fc.constant(undefined)
  )
  const segment = fc.oneof(fc.uuid(), text.map(encodeURIComponent), fc.constantFrom('..', '%00', '%E0%A4%A', 'a'.repeat(300)))
  const query = fc.dictionary(fc.oneof(fc.constantFrom('limit', 'cursor', 'username', 'email', 'role', 'disabled', 'type', 'userId', 'actorId', 'access_token'), text),
    fc.oneof(text, fc.integer().map(String), fc.constantFrom('1e300', '-1', 'true', '')), { maxKeys: 4 })

  let checked = 0
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...routes), segment, query, body, fc.constantFrom(...credentials), fc.boolean(),
    async (route, id, search, payload, headers, otherMethod) => {
      const url = route.path.replace(/\{[^}]+\}/g, id) + (Object.keys(search).length > 0 ? `?${new URLSearchParams(search)}` : '')
      const method = otherMethod ? 'PUT' : route.method
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { ...headers, ...(payload !== undefined && { 'content-type': payload.type }) },
        ...(payload !== undefined && method !== 'GET' && { payload: payload.payload })
      })
      checked++
      if (res.statusCode >= 500) throw new Error(`${method} ${url} → ${res.statusCode} ${res.body}`)
      if (res.statusCode >= 400) {
        const reply = res.json()
        if (!isError(reply) && !isOAuthError(reply)) throw new Error(`${method} ${url} → ${res.statusCode} with a malformed error: ${res.body}`)
      }
    }
  ), { numRuns: RUNS })
  t.equal(checked, RUNS, `${checked} requests, none answered with a 5xx or an ill-formed error`)
})
