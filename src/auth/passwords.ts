// Password hashing with bcryptjs on a pool of worker threads. The queue in front of the pool is
// bounded: past it a comparison is refused as overloaded (503 with Retry-After) instead of
// joining an endless backlog.
import { Piscina } from 'piscina'
import bcrypt from 'bcryptjs'
import { Overloaded } from '../errors.js'
import { passwordWorker } from '../paths.js'
import type { PasswordTask } from './password-worker.js'

/** Any well-formed hash costs a full computation to compare against; only its cost matters. */
export function dummyHash (rounds: number): string {
  return bcrypt.genSaltSync(rounds) + 'x'.repeat(31)
}

export function createPasswords ({ rounds, threads }: { rounds: number, threads: number }) {
  const maxQueue = threads * 8
  const pool = new Piscina<PasswordTask, string | boolean>({
    filename: passwordWorker.href,
    minThreads: threads,
    maxThreads: threads,
    maxQueue
  })
  const dummy = dummyHash(rounds)

  async function run (task: PasswordTask) {
    try {
      return await pool.run(task)
    } catch (err) {
      if ((err as Error).message === 'Task queue is at limit') throw new Overloaded()
      throw err
    }
  }

  return {
    hash: async (password: string): Promise<string> => await run({ op: 'hash', password, rounds }) as string,

    /**
     * Compares a password with a stored hash. Without a hash (no such user) it compares with a
     * dummy hash of the same cost, so that the reply takes as long either way.
     */
    async verify (password: string, hash: string | null): Promise<boolean> {
      const match = await run({ op: 'verify', password, hash: hash ?? dummy }) as boolean
      return hash !== null && match
    },

    /** True when the queue is full: a new task would get 503 overloaded. */
    saturated: (): boolean => pool.queueSize >= maxQueue,

    close: () => pool.destroy()
  }
}

export type Passwords = ReturnType<typeof createPasswords>
