// What the logs must never hold, checked on the log output itself.
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
  await app.inject({ url: `/nowhere?token=${accessToken}&password=${PASSWORD}` })
  await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${accessToken}x` } })

  t.ok(lines.length > 10)
  const entries = lines.map(line => JSON.parse(line))
  const requestLines = entries.filter(e => e.req !== undefined || e.res !== undefined)
  t.ok(requestLines.length >= 14)
  for (const entry of requestLines) t.match(entry.reqId, /^[0-9a-f-]{36}$/, 'every request line carries its id')

  const everything = lines.join('\n')
  const [, , signature] = accessToken.split('.')
  for (const secret of [PASSWORD, 'wrong-password-123', accessToken, signature, 'cookie-secret-value']) {
    t.notOk(everything.includes(secret), `the logs do not contain ${secret.slice(0, 12)}…`)
  }
  t.notMatch(everything, /authorization|set-cookie/i)
  t.ok(entries.some(e => e.req?.url === '/secure-data?access_token=[redacted]&page=2'), 'query tokens are redacted, the rest kept')
  t.ok(entries.some(e => e.req?.url === '/nowhere?token=[redacted]&password=[redacted]'))
})
