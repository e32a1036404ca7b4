// Runs in a piscina worker thread: bcrypt is pure CPU, so the event loop never waits for it.
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import bcrypt from 'bcryptjs'

export type PasswordTask =
  | { op: 'hash', password: string, rounds: number }
  | { op: 'verify', password: string, hash: string }

// The workers use every core the requests leave idle, and give way when the main thread needs
// one: under a flood of logins, authenticated requests keep their latency. Nice 10 rather than
// 19: at 19 a busy main thread starved them, and logins stopped altogether (npm run bench,
// storm row); at 10 they keep about a tenth of a contended core. On Linux a thread has its own
// id and nice value; elsewhere the workers keep the default priority.
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 10)
} catch {}

/** The answer, and the milliseconds bcrypt took: the rest of the task's time was waiting. */
export interface PasswordResult { value: string | boolean, ms: number }

export default function run (task: PasswordTask): PasswordResult {
  const started = performance.now()
  const value = task.op === 'hash'
    ? bcrypt.hashSync(task.password, task.rounds)
    : bcrypt.compareSync(task.password, task.hash)
  return { value, ms: performance.now() - started }
}
