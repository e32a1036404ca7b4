// npm run client:create, as an operator runs it: a process on the service's database, whose
// client the service accepts at once.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair, exportJWK } from 'jose'
import t from 'tap'
import { basic, build, formPost, tempDir, testEnv } from '../helper.js'
import { runCli } from '../process.js'

const createClient = (args: string[], env: Record<string, string>) => runCli('create-client', args, env)

t.test('registers a client the running service accepts; bad arguments exit 1 with one line', async t => {
  const dir = tempDir(t)
  const app = await build(t, {}, { dir })
  const env = testEnv(dir, { DATABASE_URL: app.config.DATABASE_URL })

  const made = await createClient(['--name', 'billing', '--scope', 'users:read tokens:introspect'], env)
  t.equal(made.code, 0, made.stderr)
  const client = JSON.parse(made.stdout)
  t.match(client, { name: 'billing', scopes: ['users:read', 'tokens:introspect'], token_endpoint_auth_method: 'client_secret_basic' })
  const res = await formPost(app, '/auth/token', { grant_type: 'client_credentials' }, basic(client.client_id, client.client_secret))
  t.equal(res.statusCode, 200, 'the service accepts it')
  const event = await app.store.prisma.auditEvent.findFirstOrThrow({ where: { type: 'client_created' } })
  t.equal(event.actorId, null, 'the CLI acted')

  const { publicKey } = await generateKeyPair('ES256')
  const jwksFile = join(dir, 'jwks.json')
  writeFileSync(jwksFile, JSON.stringify({ keys: [await exportJWK(publicKey)] }))
  const keyed = await createClient(['--name', 'worker', '--scope', 'users:read', '--auth-method', 'private_key_jwt', '--jwks-file', jwksFile], env)
  t.equal(keyed.code, 0, keyed.stderr)
  t.notOk('client_secret' in JSON.parse(keyed.stdout))

  for (const [args, message] of [
    [['--name', 'x'], /usage: npm run client:create/],
    [['--name', 'x', '--scope', 'profile'], /cannot hold profile/],
    [['--name', 'x', '--scope', 'users:read', '--auth-method', 'magic'], /--auth-method must be one of/],
    [['--name', 'x', '--scope', 'users:read', '--auth-method', 'private_key_jwt'], /needs jwks/],
    [['--name', 'x', '--scope', 'users:read', '--bogus'], /Unknown option/]
  ] as const) {
    const failed = await createClient([...args], env)
    t.equal(failed.code, 1, args.join(' '))
    t.match(failed.stderr, message)
    t.equal(failed.stdout, '')
  }
  t.equal(await app.store.prisma.oAuthClient.count(), 2, 'only the two good ones')
})
