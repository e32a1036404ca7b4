// Runs the service as a real process, for what only a process can show: exit codes, signals,
// crashes, a browser. It runs what ships: dist/server.js and the bundle it loads, which `npm test` builds first.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import { PASSWORD } from './helper.js'

const server = new URL('../dist/server.js', import.meta.url).pathname

// How native code ends a process: a failed assertion in Node or an addon aborts, a bad pointer
// faults. The tests themselves only ever send SIGTERM and SIGKILL.
const NATIVE_SIGNALS = new Set(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGTRAP'])
// What Node writes before it aborts: the failed check, V8's fatal errors, the native stack.
const NATIVE_OUTPUT = /Assertion failed|FATAL ERROR|Native stack trace|Segmentation fault/

/** How the process's exit shows that it died in native code, or undefined if it did not. */
export function nativeFault (signal: string | null, stderr: string): string | undefined {
  if (signal !== null && NATIVE_SIGNALS.has(signal)) return `killed by ${signal}`
  return NATIVE_OUTPUT.exec(stderr)?.[0]
}

/**
 * Starts the bundle; the test's end kills it. A native abort fails the test, whenever the
 * process dies, even after the test's last assertion: better-sqlite3 12 aborted Node 24 when a
 * statement was freed as the process or a worker thread shut down, which no other assertion
 * would see.
 */
export function startServer (t: Test, env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [server], { cwd, env: { PATH: process.env.PATH, ...env }, stdio: 'pipe' })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => { stdout += chunk })
  child.stderr.on('data', chunk => { stderr += chunk })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  t.teardown(() => { child.kill('SIGKILL') })
  void exited.then(([, signal]) => {
    const fault = nativeFault(signal, stderr)
    if (fault !== undefined) t.fail(`the server died in native code: ${fault}`, { stderr })
  })
  return { child, exited, out: () => stdout, err: () => stderr }
}

export type ServerProcess = ReturnType<typeof startServer>

/** Resolves once the process's output matches; rejects if it exits first. */
export async function waitForOutput (proc: ServerProcess, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const match = pattern.exec(proc.out())
    if (match !== null) return match
    if (proc.child.exitCode !== null) throw new Error(`exited before ${pattern}: ${proc.err()}`)
    await sleep(50)
  }
}

/** The base URL once the process logs that it listens. */
export async function listening (proc: ServerProcess): Promise<string> {
  return (await waitForOutput(proc, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/))[1]
}

/** A JSON POST to a server process; its status and JSON body. */
export const post = async (base: string, path: string, body: unknown) => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() as Record<string, string> }
}

/**
 * The writes the crash tests kill a server in the middle of: four refresh-token chains rotated as
 * fast as the server answers, and registrations one after another, each asserted 200 or 201 and
 * recorded once acknowledged. stop() waits for the requests in flight (a killed server fails them).
 */
export async function writeBurst (t: Test, base: string, prefix: string) {
  const chains: string[][] = []
  for (let i = 0; i < 4; i++) {
    const user = { username: `${prefix}chain${i}`, email: `${prefix}chain${i}@example.com`, password: PASSWORD }
    t.equal((await post(base, '/auth/register', user)).status, 201)
    chains.push([(await post(base, '/auth/token', { username: user.username, password: user.password })).body.refresh_token])
  }
  const registered: string[] = []
  let stopped = false
  const rotate = async (chain: string[]) => {
    while (!stopped) {
      const res = await post(base, '/auth/refresh', { refresh_token: chain.at(-1) }).catch(() => undefined)
      if (res === undefined) return
      t.equal(res.status, 200)
      chain.push(res.body.refresh_token)
    }
  }
  const signUp = async () => {
    for (let n = 0; !stopped; n++) {
      const user = { username: `${prefix}burst${n}`, email: `${prefix}burst${n}@example.com`, password: PASSWORD }
      const res = await post(base, '/auth/register', user).catch(() => undefined)
      if (res === undefined) return
      t.equal(res.status, 201)
      registered.push(user.username)
    }
  }
  const running = Promise.all([...chains.map(rotate), signUp()])
  return {
    chains,
    registered,
    /** Rotations acknowledged so far. */
    acknowledged: () => chains.reduce((n, chain) => n + chain.length - 1, 0),
    async stop () {
      stopped = true
      await running
    }
  }
}

/** Runs a CLI's TypeScript source (src/cli/<name>.ts) as a process, as tap runs the tests. */
export async function runCli (name: string, args: string[], env: Record<string, string>) {
  const cli = new URL(`../src/cli/${name}.ts`, import.meta.url).pathname
  const execArgv = process.execArgv.filter(arg => arg.includes('@tapjs/typescript'))
  const tsNode = Object.fromEntries(Object.entries(process.env).filter(([variable]) => variable.startsWith('TS_NODE_')))
  const child = spawn(process.execPath, [...execArgv, cli, ...args], { env: { PATH: process.env.PATH, ...tsNode, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => { stdout += chunk })
  child.stderr.on('data', chunk => { stderr += chunk })
  const [code] = await once(child, 'exit') as [number]
  return { code, stdout, stderr }
}
