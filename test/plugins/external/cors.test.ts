import t from 'tap'
import { build } from '../../helper.js'

t.test('credentialed CORS only for CORS_ORIGINS', async t => {
  const app = await build(t, { CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' })
  for (const origin of ['https://app.example.com', 'http://localhost:5173']) {
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/auth/logout',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-csrf-token' }
    })
    t.equal(preflight.statusCode, 204, origin)
    t.equal(preflight.headers['access-control-allow-origin'], origin)
    t.equal(preflight.headers['access-control-allow-credentials'], 'true')
    t.match(preflight.headers['access-control-allow-headers'], /x-csrf-token/)
    const get = await app.inject({ url: '/health', headers: { origin } })
    t.equal(get.headers['access-control-allow-origin'], origin)
    t.match(get.headers.vary, /Origin/)
  }
  for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'null']) {
    const preflight = await app.inject({ method: 'OPTIONS', url: '/auth/logout', headers: { origin, 'access-control-request-method': 'POST' } })
    t.notOk(preflight.headers['access-control-allow-origin'], `no ACAO for ${origin} (preflight)`)
    const get = await app.inject({ url: '/auth/me', headers: { origin } })
    t.notOk(get.headers['access-control-allow-origin'], `no ACAO for ${origin}`)
  }
})

t.test('without CORS_ORIGINS, no cross-origin access at all', async t => {
  const app = await build(t)
  const get = await app.inject({ url: '/health', headers: { origin: 'https://app.example.com' } })
  t.notOk(get.headers['access-control-allow-origin'])
})
