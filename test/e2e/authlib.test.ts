// A real OAuth client library against the service over HTTP: Authlib (Debian's python3-authlib; the script is machine-client.py)
// gets a token by client credentials (client_secret_basic, client_secret_post, private_key_jwt),
// calls a protected route and introspects the token. .ci/run installs it; elsewhere, without it,
// this file is skipped (and fails under CI=true, so that CI cannot skip it by accident).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { generateKeyPair, exportJWK, exportPKCS8 } from 'jose'
import t from 'tap'
import { build, registeredClient } from '../helper.js'

const PYTHON = process.env.AUTHLIB_PYTHON ?? '/usr/bin/python3'
const script = new URL('./machine-client.py', import.meta.url).pathname
const run = promisify(execFile)

const missing = await run(PYTHON, ['-c', 'import authlib, requests']).then(() => false, () => `no Authlib for ${PYTHON} (apt-get install python3-authlib python3-requests, or set AUTHLIB_PYTHON)`)
if (missing !== false && process.env.CI !== undefined) t.fail(`${missing}: CI must install it (.ci/run does)`)

t.test('Authlib gets a token by client credentials, calls a protected route and introspects', { skip: missing }, async t => {
  const app = await build(t)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const scopes = ['users:read', 'tokens:introspect']
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const clients: Array<[string, string, string]> = []
  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    const client = await registeredClient(app, { scopes, authMethod: method })
    clients.push([method, client.id, client.secret])
  }
  const keyed = await registeredClient(app, { scopes, authMethod: 'private_key_jwt', jwks: { keys: [{ ...await exportJWK(publicKey), alg: 'RS256' }] } })
  clients.push(['private_key_jwt', keyed.id, await exportPKCS8(privateKey)])

  for (const [method, id, credential] of clients) {
    const { stdout } = await run(PYTHON, [script, base, method, id, credential])
    const result = JSON.parse(stdout)
    t.match(result.token, { token_type: 'Bearer', expires_in: 900, scope: 'users:read tokens:introspect' }, method)
    t.notOk('refresh_token' in result.token, `${method}: no refresh token`)
    t.equal(result.protected, 200, `${method}: the protected route answers`)
    t.same(result.users, [], method)
    t.equal(result.introspection_status, 200, method)
    t.match(result.introspection, { active: true, client_id: id, sub: id, token_type: 'Bearer' }, method)
  }
  const used = await app.store.prisma.usedAssertion.count({ where: { clientId: keyed.id } })
  t.equal(used, 2, 'Authlib signed a fresh assertion for each request, each accepted once')
})
