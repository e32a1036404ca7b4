// npm run user:create -- --username alice --email alice@example.com [--role admin ...]
// (every account also gets the user role)
// Creates an account in the configured database (the same environment and .env as the
// service), with the service's own rules. The password comes from standard input: typed at a
// prompt that does not echo it on a terminal, or piped (`printf '%s' "$PW" | npm run ...`).
// Never from the command line, where other users could read it in the process list.
import { parseArgs } from 'node:util'
import { buildApp } from '../app.js'
import { cliConfig } from './config.js'
import { HttpError } from '../errors.js'
import { ROLE_SCOPES } from '../roles.js'
import { toPublicUser } from '../schemas/user.js'
import { RegisterBody } from '../schemas/user.js'
import { unsupportedNode } from '../runtime.js'
import { createAjv } from '../validation.js'

const USAGE = 'usage: npm run user:create -- --username NAME --email EMAIL [--role ROLE]... (password on standard input)'

function fail (message: string): never {
  console.error(`user:create: ${message}`)
  process.exit(1)
}

async function readPassword (): Promise<string> {
  const input = process.stdin
  if (!input.isTTY) {
    let text = ''
    for await (const chunk of input) text += String(chunk)
    return text.replace(/\r?\n$/, '')
  }
  process.stderr.write('Password: ')
  input.setRawMode(true)
  input.setEncoding('utf8')
  let password = ''
  try {
    for await (const chunk of input) {
      for (const char of String(chunk)) {
        if (char === '\r' || char === '\n') return password
        if (char === '\u0003') fail('interrupted')
        if (char === '\u007f') password = password.slice(0, -1)
        else password += char
      }
    }
    return password
  } finally {
    input.setRawMode(false)
    input.pause()
    process.stderr.write('\n')
  }
}

const unsupported = unsupportedNode()
if (unsupported !== undefined) fail(unsupported)

let options
try {
  options = parseArgs({
    options: {
      username: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string', multiple: true, default: [] }
    }
  }).values
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`)
}
const { username, email } = options
if (username === undefined || email === undefined) fail(USAGE)
const unknown = options.role.filter(role => !Object.hasOwn(ROLE_SCOPES, role))
if (unknown.length > 0) fail(`unknown role ${unknown.join(', ')}; roles are ${Object.keys(ROLE_SCOPES).join(', ')}`)
// Every account has the user role, as a registration gives it; --role adds to it.
const roles = [...new Set(['user', ...options.role])]

const config = cliConfig(fail)

const password = await readPassword()
// The rules POST /auth/register applies through its schema.
const valid = createAjv(false).compile(RegisterBody)
if (!valid({ username, email, password })) {
  const [error] = valid.errors ?? []
  fail(`invalid_request: ${error?.instancePath.slice(1) ?? 'input'} ${error?.message ?? 'is invalid'}`)
}
const app = buildApp({ ...config, LOG_LEVEL: 'error' })
try {
  await app.ready()
  const user = await app.accounts.register({ username, email, password, roles }, { via: 'cli' })
  console.log(JSON.stringify(toPublicUser(user)))
} catch (err) {
  if (err instanceof HttpError) fail(`${err.code}: ${err.message}`)
  throw err
} finally {
  await app.close()
}
