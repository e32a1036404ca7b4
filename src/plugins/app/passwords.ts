// The bcrypt pool (src/auth/passwords.ts): one worker per core unless PASSWORD_WORKERS says.
import { availableParallelism } from 'node:os'
import fp from 'fastify-plugin'
import { createPasswords, type Passwords } from '../../auth/passwords.js'

declare module 'fastify' {
  interface FastifyInstance {
    passwords: Passwords
  }
}

export default fp(async function passwords (app) {
  const passwords = createPasswords({
    rounds: app.config.BCRYPT_ROUNDS,
    threads: app.config.PASSWORD_WORKERS || availableParallelism(),
    waited: app.metrics.passwordWait
  })
  app.decorate('passwords', passwords)
  app.metrics.source('passwordQueueDepth', passwords.queued)
  app.addHook('onClose', () => passwords.close())
}, { name: 'passwords', dependencies: ['metrics'] })
