// npm run keys:list | keys:rotate | keys:revoke, as an operator runs them beside a running
// service: processes on the same database. A revocation by the CLI is refused by the service
// within its denylist's delay, without a restart; the service's sessions live on.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { bearer, build, decodeJwt, forge, onPostgres, register, tempDir, testEnv, token } from '../helper.js'
import { runCli } from '../process.js'

async function keys (args: string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await runCli('keys', args, env)
  return { code, stdout, stderr, lines: stdout.trim().split('\n').filter(line => line !== '').map(line => JSON.parse(line) as Record<string, string>) }
}

t.test('list, rotate and revoke beside a running service', async t => {
  const dir = tempDir(t)
  const app = await build(t, {}, { dir })
  const env = testEnv(dir, { DATABASE_URL: app.config.DATABASE_URL })
  const user = await register(app)
  const tokens = await token(app, user.username)
  const { kid } = decodeJwt(tokens.access_token).header

  const listed = await keys(['list'], env)
  t.equal(listed.code, 0, listed.stderr)
  t.match(listed.lines, [{ kid, alg: 'ES256', state: 'signing' }], 'the service\'s key, signing')

  const rotated = await keys(['rotate'], env)
  t.equal(rotated.code, 0, rotated.stderr)
  t.match(rotated.lines[0], { alg: 'ES256', state: 'waiting' })
  t.not(rotated.lines[0].kid, kid)
  await app.signingKeys.reload()
  t.ok((await app.inject({ url: '/.well-known/jwks.json' })).json().keys.some((key: { kid: string }) => key.kid === rotated.lines[0].kid), 'the service publishes it once it has read the set')

  const revoked = await keys(['revoke', kid], env)
  t.equal(revoked.code, 0, revoked.stderr)
  t.equal(revoked.lines[0].revoked, kid)
  t.not(revoked.lines[0].signing, kid, 'another key signs from now')
  // The service learns of it from the denylist: at once on PostgreSQL, within a second on SQLite.
  const start = Date.now()
  while ((await app.inject({ url: '/auth/me', headers: bearer(tokens.access_token) })).statusCode !== 401) {
    if (Date.now() - start > 5000) return t.fail('the token of the revoked key is still taken after 5 s')
    await sleep(50)
  }
  t.pass(`the running service refuses the revoked key's tokens (${onPostgres ? 'NOTIFY' : 'the sync'})`)
  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } })
  t.equal(refreshed.statusCode, 200, 'the session lives on')
  t.not(decodeJwt(refreshed.json().access_token).header.kid, kid)

  const again = await keys(['revoke', kid], env)
  t.equal(again.code, 1)
  t.match(again.stderr, /no key .* or it is revoked already/)
  const usage = await keys(['revoke'], env)
  t.equal(usage.code, 1)
  t.match(usage.stderr, /usage: npm run keys:list/)
})

t.test('an install from before signing keys: the tokens it issued (HS256, no kid) stay good until they expire', async t => {
  const dir = tempDir(t)
  const old = await build(t, { JWT_ALG: 'HS256' }, { dir })
  const user = await register(old)
  const tokens = await token(old, user.username)
  // As that version stored nothing of keys, and signed without a kid:
  await old.store.prisma.signingKey.deleteMany()
  const { header, payload } = decodeJwt(tokens.access_token)
  delete header.kid
  const legacy = forge(header, payload)
  await old.close()

  const upgraded = await build(t, {}, { dir })
  t.equal((await upgraded.inject({ url: '/auth/me', headers: bearer(legacy) })).statusCode, 200, 'the old token is taken')
  const states = await upgraded.signingKeys.list()
  t.match(states.find(key => key.alg === 'HS256'), { state: 'verifying' }, 'by the secret, verifying only')
  t.match(states.find(key => key.alg === 'ES256'), { state: 'signing' })
  t.same((await upgraded.inject({ url: '/.well-known/jwks.json' })).json().keys.map((key: { alg: string }) => key.alg), ['ES256'], 'the secret is never published')
})
