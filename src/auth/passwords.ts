// Password hashing with bcryptjs on a pool of worker threads. The queue in front of the pool is
// bounded: past it a comparison is refused as overloaded (503 with Retry-After) instead of
// joining an endless backlog.
import { Piscina } from 'piscina'
import bcrypt from 'bcryptjs'
import { Overloaded } from '../errors.js'
import { passwordWorker } from '../paths.js'
import type { PasswordResult, PasswordTask } from './password-worker.js'

/** Any well-formed hash costs a full computation to compare against; only its cost matters. */
export function dummyHash (rounds: number): string {
  return bcrypt.genSaltSync(rounds) + 'x'.repeat(31)
}

export interface PasswordsOptions {
  rounds: number
  threads: number
  /** Told the seconds each task waited for a worker (in the queue, and handed over). */
  waited?: (seconds: number) => void
}

export function createPasswords ({ rounds, threads, waited = () => {} }: PasswordsOptions) {
  const maxQueue = threads * 8
  const pool = new Piscina<PasswordTask, PasswordResult>({
    filename: passwordWorker.href,
    minThreads: threads,
    maxThreads: threads,
    maxQueue
  })
  const dummy = dummyHash(rounds)

  async function run (task: PasswordTask) {
    const queued = performance.now()
    try {
      const { value, ms } = await pool.run(task)
      waited((performance.now() - queued - ms) / 1000)
      return value
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

    /** Tasks waiting for a worker. */
    queued: (): number => pool.queueSize,

    close: () => pool.destroy()
  }
}

export type Passwords = ReturnType<typeof createPasswords>
