// npm run client:create -- --name billing --scope "users:read tokens:introspect"
//   [--auth-method client_secret_basic | client_secret_post | private_key_jwt] [--jwks-file keys.json]
// Registers a machine client in the configured database (the same environment and .env as the
// service), as POST /admin/clients does, and prints it as JSON: its client_id and, for a
// secret-based client, its client_secret, shown this once. The audit trail records it with no
// actor (the CLI).
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { buildApp } from '../app.js'
import { cliConfig } from './config.js'
import { HttpError } from '../errors.js'
import { toClientView } from '../schemas/client.js'
import { unsupportedNode } from '../runtime.js'
import type { ClientAuthMethod } from '../store/index.js'

const USAGE = 'usage: npm run client:create -- --name <name> --scope "<scope> ..." [--auth-method client_secret_basic|client_secret_post|private_key_jwt] [--jwks-file <public JWK set>]'
const METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt']

function fail (message: string): never {
  console.error(`client:create: ${message}`)
  process.exit(1)
}

const unsupported = unsupportedNode()
if (unsupported !== undefined) fail(unsupported)

let values
try {
  ({ values } = parseArgs({
    options: { name: { type: 'string' }, scope: { type: 'string' }, 'auth-method': { type: 'string' }, 'jwks-file': { type: 'string' } },
    allowPositionals: false
  }))
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`)
}
const { name, scope, 'auth-method': method = 'client_secret_basic', 'jwks-file': jwksFile } = values
if (name === undefined || name.trim() === '' || scope === undefined) fail(USAGE)
if (!METHODS.includes(method)) fail(`--auth-method must be one of ${METHODS.join(', ')}`)
let jwks
if (jwksFile !== undefined) {
  try {
    jwks = JSON.parse(readFileSync(jwksFile, 'utf8')) as { keys: Array<Record<string, unknown>> }
  } catch (err) {
    fail(`--jwks-file: ${(err as Error).message}`)
  }
  if (!Array.isArray(jwks?.keys)) fail('--jwks-file must hold a JWK set: {"keys": [...]}')
}

const config = cliConfig(fail)
const app = buildApp({ ...config, LOG_LEVEL: 'error' })
try {
  await app.ready()
  const scopes = scope.split(' ').filter(s => s !== '')
  const { client, secret } = await app.clients.register({ id: null, sessionId: null, ip: null, userAgent: 'cli' }, { name: name.trim(), scopes, authMethod: method as ClientAuthMethod, jwks })
  console.log(JSON.stringify(toClientView(client, secret)))
} catch (err) {
  if (!(err instanceof HttpError)) throw err
  console.error(`client:create: ${err.message}`)
  process.exitCode = 1
} finally {
  await app.close()
}
