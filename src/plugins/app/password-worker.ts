// Runs in a piscina worker thread: bcrypt is pure CPU, so the event loop never waits for it.
import bcrypt from 'bcryptjs'

export type PasswordTask =
  | { op: 'hash', password: string, rounds: number }
  | { op: 'verify', password: string, hash: string }

export default function run (task: PasswordTask): string | boolean {
  return task.op === 'hash'
    ? bcrypt.hashSync(task.password, task.rounds)
    : bcrypt.compareSync(task.password, task.hash)
}
