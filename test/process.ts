// Runs the service as a real process, for what only a process can show: exit codes, signals,
// crashes, a browser. It runs what ships: the bundle that `npm test` builds first (dist/server.js).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'

const server = new URL('../dist/server.js', import.meta.url).pathname

export function startServer (env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [server], { cwd, env: { PATH: process.env.PATH, ...env }, stdio: 'pipe' })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => { stdout += chunk })
  child.stderr.on('data', chunk => { stderr += chunk })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
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
