// npm run user:create, as an operator runs it: a process, the password on standard input.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { build, decodeJwt, tempDir, testEnv } from '../helper.js'

// The CLI's TypeScript source, run the way tap runs the tests: tap's loader and its settings
// (transpile-only above all: type-checking every start takes seconds).
const cli = new URL('../../src/cli/create-user.ts', import.meta.url).pathname
const execArgv = process.execArgv.filter(arg => arg.includes('@tapjs/typescript'))
const tsNode = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('TS_NODE_')))
const PASSWORD = 'the first admin passphrase'

async function run (args: string[], env: Record<string, string>, stdin: string, viaTerminal = false) {
  const command = [process.execPath, ...execArgv, cli, ...args]
  // `script` gives the child a terminal, to see that the prompt does not echo what is typed.
  const child = viaTerminal
    ? spawn('script', ['-qec', command.map(arg => `'${arg}'`).join(' '), '/dev/null'], { env: { PATH: process.env.PATH, ...tsNode, ...env } })
    : spawn(command[0], command.slice(1), { env: { PATH: process.env.PATH, ...tsNode, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => { stdout += chunk })
  child.stderr.on('data', chunk => { stderr += chunk })
  if (viaTerminal) {
    // Type it once the prompt is up.
    while (!stdout.includes('Password:')) await new Promise(resolve => setTimeout(resolve, 50))
  }
  child.stdin.end(stdin)
  const [code] = await once(child, 'exit') as [number]
  return { code, stdout, stderr }
}

t.test('creates an admin from a password on standard input, against the configured database', async t => {
  const dir = tempDir(t)
  const env = testEnv(dir)
  const res = await run(['--username', 'Alice', '--email', 'alice@example.com', '--role', 'admin'], env, `${PASSWORD}\n`)
  t.equal(res.code, 0, res.stderr)
  t.same(JSON.parse(res.stdout).roles, ['admin', 'user'], 'every account has the user role; --role adds to it')
  t.match(JSON.parse(res.stdout), { username: 'alice', email: 'alice@example.com' })
  t.notOk(res.stdout.includes(PASSWORD) || res.stderr.includes(PASSWORD))

  const app = await build(t, {}, { dir })
  const login = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: 'alice', password: PASSWORD } })
  t.equal(login.statusCode, 200, 'the trailing newline is not part of the password')
  t.equal(decodeJwt(login.json().access_token).payload.scope, 'profile', 'the admin scopes wait for a second factor (MFA_REQUIRED_SCOPES); this session can set one up')
  const events = await app.store.prisma.auditEvent.findMany({ where: { type: 'user_created' } })
  t.same(events.map(e => JSON.parse(e.detail as string)), [{ via: 'cli', roles: ['admin', 'user'] }])
})

t.test('on a terminal it prompts without echoing the password', async t => {
  const dir = tempDir(t)
  const res = await run(['--username', 'bob', '--email', 'bob@example.com'], testEnv(dir), `${PASSWORD}\r`, true)
  t.equal(res.code, 0, res.stdout)
  t.match(res.stdout, /Password: /)
  t.notOk(res.stdout.includes(PASSWORD), 'what was typed does not appear on the terminal')
  const app = await build(t, {}, { dir })
  t.equal((await app.inject({ method: 'POST', url: '/auth/token', payload: { username: 'bob', password: PASSWORD } })).statusCode, 200)
})

t.test('refuses what the service would refuse, with one line and exit code 1', async t => {
  const dir = tempDir(t)
  const env = testEnv(dir)
  const cases: Array<[string[], string, RegExp]> = [
    [['--username', 'carol', '--email', 'carol@example.com'], 'short', /^user:create: invalid_password: password must be at least 8 characters$/],
    [['--username', 'carol', '--email', 'carol@example.com', '--role', 'root'], PASSWORD, /^user:create: unknown role root; roles are user, admin$/],
    [['--username', 'carol', '--email', 'carol@example.com', '--role', 'toString'], PASSWORD, /^user:create: unknown role toString;/],
    [['--username', 'carol', '--email', 'carol@example.com', '--role', '__proto__'], PASSWORD, /^user:create: unknown role __proto__;/],
    [['--username', 'carol'], PASSWORD, /^user:create: usage: /],
    [['--username', 'c a', '--email', 'carol@example.com'], PASSWORD, /^user:create: invalid_request: username must match pattern/],
    [['--username', 'carol', '--email', 'not-an-email'], PASSWORD, /^user:create: invalid_request: email must match format "email"$/]
  ]
  for (const [args, stdin, message] of cases) {
    const res = await run(args, env, stdin)
    t.equal(res.code, 1, args.join(' '))
    t.match(res.stderr.trim(), message)
  }
  const dave = await run(['--username', 'dave', '--email', 'dave@example.com', '--role', 'admin', '--role', 'admin'], env, PASSWORD)
  t.equal(dave.code, 0, 'a repeated role is taken once')
  t.same(JSON.parse(dave.stdout).roles, ['admin', 'user'])
  const taken = await run(['--username', 'DAVE', '--email', 'other@example.com'], env, PASSWORD)
  t.match(taken.stderr.trim(), /^user:create: username_taken: /)
})
