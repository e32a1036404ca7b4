// The Node.js line: what says it, and what an older Node gets, at install and at start.
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync, realpathSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import t from 'tap'
import { tempDir } from './helper.js'
import { nativeFault } from './process.js'
import { MINIMUM_NODE_MAJOR, unsupportedNode } from '../src/runtime.js'

const root = new URL('../', import.meta.url).pathname
const read = (file: string) => readFileSync(join(root, file), 'utf8')

t.test('unsupportedNode() refuses every line before 24 and accepts 24 and later', async t => {
  for (const version of ['v18.20.8', 'v20.20.2', 'v22.21.1', 'v23.11.0']) {
    t.match(unsupportedNode(version), `Node.js 24 or newer is required, and this is ${version}`, version)
  }
  for (const version of ['v24.0.0', 'v24.21.0', 'v26.12.1', 'v100.0.0']) t.equal(unsupportedNode(version), undefined, version)
  t.equal(unsupportedNode(), undefined, `and this process, ${process.version}`)
})

t.test('package.json, .npmrc and the Dockerfile name the same line', async t => {
  const pkg = JSON.parse(read('package.json'))
  t.equal(pkg.engines.node, `>=${MINIMUM_NODE_MAJOR}`)
  t.match(read('.npmrc'), /^engine-strict=true$/m, 'npm refuses to install on an older Node')
  const images = [...read('Dockerfile').matchAll(/^FROM (\S+)/gm)].map(match => match[1])
  t.same(images, [`node:${MINIMUM_NODE_MAJOR}-bookworm-slim`, `node:${MINIMUM_NODE_MAJOR}-bookworm-slim`], 'both stages')
  t.equal(pkg.overrides['better-sqlite3'], '$better-sqlite3', "Prisma's adapter gets the project's better-sqlite3")
  t.match(pkg.dependencies['better-sqlite3'], /^\^13\./, 'the major that does not abort Node 24 at exit')
})

// What the process tests (test/process.ts) fail on, tried on real processes.
t.test('a process that dies in native code is told from one that exits or is killed', async t => {
  const run = (code: string) => spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' })
  const aborted = run('process.abort()')
  t.equal(nativeFault(aborted.signal, aborted.stderr), 'killed by SIGABRT')
  // A failed assertion in Node's own C++ (the kind better-sqlite3 12 hit on Node 24) prints this first.
  t.equal(nativeFault(null, 'node[42]: void node::RemoveEnvironmentCleanupHook(...) at ../src/api/hooks.cc:105\n  Assertion failed: (env) != nullptr\n'), 'Assertion failed')
  const killed = run('process.kill(process.pid, "SIGKILL")')
  t.equal(nativeFault(killed.signal, killed.stderr), undefined, 'SIGKILL, as the tests send it')
  const thrown = run('throw new Error("a JavaScript error")')
  t.equal(thrown.status, 1)
  t.equal(nativeFault(thrown.signal, thrown.stderr), undefined, 'an uncaught JavaScript error is not native')
})

// An older Node, if this machine has one besides the one running the tests (the development
// machines and CI here have the system's Node 20).
function olderNode (): string | undefined {
  const candidates = new Set<string>()
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin']) {
    const file = join(dir, 'node')
    if (dir !== '' && existsSync(file)) candidates.add(realpathSync(file))
  }
  for (const node of candidates) {
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
    if (unsupportedNode(version) !== undefined) return node
  }
  return undefined
}

const older = olderNode()
const noOlder = older === undefined ? 'no Node older than 24 on this machine' : false

t.test('an older Node: npm refuses to install, and the service refuses to start', { skip: noOlder }, async t => {
  const node = older as string
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  // npm runs on the first node on PATH: the older one, as in a shell without Node 24. None of
  // the npm_* variables that `npm test` set reach it.
  const dir = tempDir(t)
  const env = { PATH: `${dirname(node)}${delimiter}${process.env.PATH}`, HOME: dir }
  for (const file of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(root, file), join(dir, file))
  const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 })
  t.not(install.status, 0, `npm ci on ${version} fails`)
  t.match(install.stderr, /EBADENGINE/)
  t.match(install.stderr, 'Not compatible with your version of node/npm: authd')
  t.match(install.stderr, 'Required: {"node":">=24"}')
  t.notOk(existsSync(join(dir, 'node_modules')), 'before installing anything')

  // Installed with Node 24, then started with the older one: one line, not a native crash.
  const start = spawnSync(node, [join(root, 'dist/server.js')], { cwd: dir, env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 30_000 })
  t.equal(start.status, 1)
  t.equal(start.signal, null)
  t.equal(start.stdout, '')
  t.equal(start.stderr, `authd: Node.js 24 or newer is required, and this is ${version} (the README's Two commands section says how to get it)\n`)
  t.notOk(existsSync(join(dir, 'data')), 'no database was created')
})
