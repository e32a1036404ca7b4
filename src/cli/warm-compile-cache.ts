// Run by `npm run build`, last: starts the built service once, as production does, on a
// throwaway database, until /ready answers 200, then stops it. Node writes V8's compile cache
// (dist/.compile-cache, enabled by src/server.ts) as the process exits, so that every later start,
// the first one included, takes the code compiled here instead of compiling the bundle again.
//
// Node keeps a folder per user in it, named with the uid, and writes its files readable by their
// owner only. The image (Dockerfile) runs this again as the user the service runs as, then hands
// the files to root: the cache files are made readable by all here, as the code they come from
// is, so that the service reads them without being able to change them.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'

const server = fileURLToPath(new URL('../server.js', import.meta.url))
const cache = fileURLToPath(new URL('../.compile-cache/', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'authd-warm-'))
const env = {
  PATH: process.env.PATH,
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'info',
  JWT_SECRET: randomBytes(48).toString('base64'),
  DATABASE_URL: `file:${join(dir, 'warm.db')}`
}
const child = spawn(process.execPath, [server], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] })
try {
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
  let url: string | undefined
  let ready = false
  for (const deadline = Date.now() + 30_000; !ready && Date.now() < deadline && child.exitCode === null;) {
    url ??= /"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1]
    ready = url !== undefined && await fetch(`${url}/ready`).then(res => res.status === 200, () => false)
    if (!ready) await sleep(10)
  }
  if (!ready) throw new Error(`the service did not become ready:\n${out}`)
  child.kill('SIGTERM')
  const code = await exited
  if (code !== 0 || !existsSync(cache)) throw new Error(`the service exited with ${code} and left no cache in ${cache}:\n${out}`)
  for (const entry of readdirSync(cache, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) chmodSync(join(entry.parentPath, entry.name), 0o644)
  }
  console.log(`warm-compile-cache: ${cache}`)
} finally {
  child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
