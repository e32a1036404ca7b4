// Runs in a piscina worker thread: bcrypt is pure CPU, so the event loop never waits for it.
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import bcrypt from 'bcryptjs'

export type PasswordTask =
  | { op: 'hash', password: string, rounds: number }
  | { op: 'verify', password: string, hash: string }

// The workers use every core the requests leave idle, and yield them as soon as the main thread
// needs one: under a flood of logins, authenticated requests keep their latency. On Linux a
// thread has its own id and nice value; elsewhere the worker keeps the default priority.
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 19)
} catch {}

export default function run (task: PasswordTask): string | boolean {
  return task.op === 'hash'
    ? bcrypt.hashSync(task.password, task.rounds)
    : bcrypt.compareSync(task.password, task.hash)
}
