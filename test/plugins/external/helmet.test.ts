import t from 'tap'
import { build } from '../../helper.js'

t.test('security headers on every answer, and no framework version', async t => {
  const app = await build(t)
  for (const url of ['/health', '/', '/docs/json', '/nowhere']) {
    const res = await app.inject(url)
    t.match(res.headers['content-security-policy'], /default-src 'self'/, url)
    t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/)
    t.match(res.headers['content-security-policy'], /script-src 'self'/)
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.equal(res.headers['x-frame-options'], 'DENY')
    t.match(res.headers['strict-transport-security'], /max-age=\d+/)
    t.equal(res.headers['referrer-policy'], 'no-referrer')
    t.notOk(res.headers['x-powered-by'])
    t.notOk(res.headers.server)
  }
  const page = await app.inject('/')
  t.notMatch(page.body, /<script>|style="|onclick=/, 'the page has no inline script or style for the policy to allow')
})
