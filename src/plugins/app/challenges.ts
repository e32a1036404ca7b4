// The handles of two-step sign-ins (src/auth/challenges.ts); those expired an hour ago purged
// every ten minutes.
import fp from 'fastify-plugin'
import { createChallenges, type Challenges } from '../../auth/challenges.js'
import { every } from './every.js'

declare module 'fastify' {
  interface FastifyInstance {
    challenges: Challenges
  }
}

export default fp(async function challenges (app) {
  const challenges = createChallenges({ store: app.store })
  app.decorate('challenges', challenges)
  every(app, 10 * 60_000, 'challenge purge', challenges.purge)
}, { name: 'challenges', dependencies: ['store'] })
