import t from 'tap'
import { bearer, build, signedIn } from '../../helper.js'

t.test('every answer forbids caching, framing, sniffing and, if rendered, any content', async t => {
  const app = await build(t)
  const res = await app.inject({ url: '/health' })
  const forbidden = await app.inject('/nowhere')
  for (const r of [res, forbidden, await app.inject('/docs/json')]) {
    t.equal(r.headers['cache-control'], 'no-store')
    t.equal(r.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'")
    t.equal(r.headers['x-content-type-options'], 'nosniff')
    t.equal(r.headers['x-frame-options'], 'DENY')
    t.equal(r.headers['cross-origin-resource-policy'], 'same-origin')
    t.match(r.headers['strict-transport-security'], /max-age=\d+/)
    t.notOk(r.headers['x-powered-by'])
    t.notOk(r.headers.server)
  }
  // The headers that only mean something to a document stay off JSON.
  t.notOk(res.headers['cross-origin-opener-policy'])

  // An answer without a body (204) is not a document either.
  const { tokens } = await signedIn(app)
  const logout = await app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(tokens.access_token) })
  t.equal(logout.statusCode, 204)
  t.equal(logout.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'")
  t.notOk(logout.headers['cross-origin-opener-policy'])
})

t.test('documents get the whole set, with a policy that allows only their own scripts and styles', async t => {
  const app = await build(t)
  for (const url of ['/', '/docs']) {
    const res = await app.inject(url)
    t.match(res.headers['content-type'], /^text\/html/, url)
    t.match(res.headers['content-security-policy'], /default-src 'self'/, url)
    t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/)
    t.match(res.headers['content-security-policy'], /script-src 'self'/)
    t.match(res.headers['content-security-policy'], /object-src 'none'/)
    t.equal(res.headers['cross-origin-opener-policy'], 'same-origin')
    t.equal(res.headers['x-frame-options'], 'DENY')
    t.equal(res.headers['referrer-policy'], 'no-referrer')
    t.match(res.headers['strict-transport-security'], /max-age=\d+/)
  }
  const page = await app.inject('/')
  t.notMatch(page.body, /<script>|style="|onclick=/, 'the page has no inline script or style for the policy to allow')

  // A reload revalidates: the 304's headers replace those the browser cached with the page.
  const revalidated = await app.inject({ url: '/', headers: { 'if-none-match': page.headers.etag as string } })
  t.equal(revalidated.statusCode, 304)
  t.equal(revalidated.headers['content-security-policy'], page.headers['content-security-policy'])
  const script = await app.inject('/app.js')
  t.equal(script.headers['content-security-policy'], page.headers['content-security-policy'], 'the page\'s files too')
})
