// The handles of two-step sign-ins (src/auth/challenges.ts); those expired an hour ago purged
// every ten minutes.
import fp from 'fastify-plugin'
import { createChallenges, type Challenges } from '../../auth/challenges.js'

declare module 'fastify' {
  interface FastifyInstance {
    challenges: Challenges
  }
}

export default fp(async function challenges (app) {
  const challenges = createChallenges({ store: app.store })
  app.decorate('challenges', challenges)
  let timer: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      challenges.purge().catch(err => app.log.error({ err }, 'challenge purge failed'))
    }, 10 * 60_000).unref()
  })
  app.addHook('onClose', async () => clearInterval(timer))
}, { name: 'challenges', dependencies: ['store'] })
