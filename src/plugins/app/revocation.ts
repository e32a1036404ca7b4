// The denylist (src/auth/revocation.ts), kept in step with the database: read whole once the
// store is ready, then for the rows other processes added as soon as the store tells of them
// (PostgreSQL's LISTEN/NOTIFY), and every second in any case; expired rows purged every ten
// minutes.
import fp from 'fastify-plugin'
import { createRevocation, type Revocation } from '../../auth/revocation.js'

declare module 'fastify' {
  interface FastifyInstance {
    revocation: Revocation
  }
}

const SYNC_INTERVAL_MS = 1000
const PURGE_INTERVAL_MS = 10 * 60 * 1000

export default fp(async function revocation (app) {
  const revocation = createRevocation({ store: app.store, accessTokenTtl: app.config.ACCESS_TOKEN_TTL })
  app.decorate('revocation', revocation)

  // A failed round is logged and retried at the next tick; the copy stays as it was meanwhile.
  const every = (ms: number, task: () => Promise<unknown>, what: string) => {
    const timer = setInterval(() => { task().catch(err => app.log.error({ err }, `${what} failed`)) }, ms)
    timer.unref()
    return timer
  }
  const timers: NodeJS.Timeout[] = []
  let unwatch = () => {}
  app.addHook('onReady', async () => {
    // A purge that fails (a long backlog past the statement timeout) does not stop the start:
    // the next round tries again.
    await revocation.purge().catch(err => app.log.error({ err }, 'purge failed'))
    await revocation.sync()
    timers.push(every(SYNC_INTERVAL_MS, revocation.sync, 'denylist sync'), every(PURGE_INTERVAL_MS, revocation.purge, 'purge'))
    unwatch = app.store.denylist.watch(() => { revocation.sync().catch(err => app.log.error({ err }, 'denylist sync failed')) })
  })
  app.addHook('onClose', async () => {
    unwatch()
    for (const timer of timers) clearInterval(timer)
  })
}, { name: 'revocation', dependencies: ['store'] })
