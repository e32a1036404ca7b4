// Password hashing with bcryptjs on a pool of worker threads. The queue in front of the pool is
// bounded: past it a login gets a 503 with Retry-After instead of joining an endless backlog.
import { availableParallelism } from 'node:os'
import fp from 'fastify-plugin'
import { Piscina } from 'piscina'
import bcrypt from 'bcryptjs'
import { dictionary } from '@zxcvbn-ts/language-common'
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

/** bcrypt reads at most 72 bytes; bcryptjs silently ignores the rest. */
export const MAX_PASSWORD_BYTES = 72
export const MIN_PASSWORD_LENGTH = 8

// zxcvbn's list, most common first (lower-cased): the first 10,000 are refused.
const COMMON_PASSWORDS = new Set(dictionary['passwords-common'].slice(0, 10_000))

/** Why a new password is refused, or undefined if it is acceptable. One place for the rules,
 * so that every refusal carries the same `invalid_password` code. */
export function passwordProblem (password: string): string | undefined {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`
  const bytes = Buffer.byteLength(password)
  if (bytes > MAX_PASSWORD_BYTES) {
    return `password must be at most ${MAX_PASSWORD_BYTES} bytes of UTF-8 (bcrypt's limit); this one is ${bytes}`
  }
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'password is one of the 10,000 most common; choose another'
  return undefined
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
