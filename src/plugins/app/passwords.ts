// Password hashing with bcryptjs on a pool of worker threads. The queue in front of the pool is
// bounded: past it a login gets a 503 with Retry-After instead of joining an endless backlog.
import { availableParallelism } from 'node:os'
import fp from 'fastify-plugin'
import { Piscina } from 'piscina'
import bcrypt from 'bcryptjs'
import { Overloaded } from '../../errors.js'
import { passwordWorker } from '../../paths.js'
import type { PasswordTask } from './password-worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    passwords: {
      hash (password: string): Promise<string>
      /**
       * Compares a password with a stored hash. Without a hash (no such user) it compares with a
       * dummy hash of the same cost, so that the reply takes as long either way.
       */
      verify (password: string, hash: string | null): Promise<boolean>
      /** True when the queue is full: a new task would get 503 overloaded. */
      saturated (): boolean
    }
  }
}

/** Any well-formed hash costs a full computation to compare against; only its cost matters. */
export function dummyHash (rounds: number): string {
  return bcrypt.genSaltSync(rounds) + 'x'.repeat(31)
}

export default fp(async function passwords (app) {
  const rounds = app.config.BCRYPT_ROUNDS
  const threads = app.config.PASSWORD_WORKERS || availableParallelism()
  const maxQueue = threads * 8
  const pool = new Piscina<PasswordTask, string | boolean>({
    filename: passwordWorker.href,
    minThreads: threads,
    maxThreads: threads,
    maxQueue
  })
  app.addHook('onClose', () => pool.destroy())

  const dummy = dummyHash(rounds)

  async function run (task: PasswordTask) {
    try {
      return await pool.run(task)
    } catch (err) {
      if ((err as Error).message === 'Task queue is at limit') throw new Overloaded()
      throw err
    }
  }

  app.decorate('passwords', {
    hash: async (password: string) => await run({ op: 'hash', password, rounds }) as string,
    verify: async (password: string, hash: string | null) => {
      const match = await run({ op: 'verify', password, hash: hash ?? dummy }) as boolean
      return hash !== null && match
    },
    saturated: () => pool.queueSize >= maxQueue
  })
}, { name: 'passwords' })
