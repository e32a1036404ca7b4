// The denylist (src/auth/revocation.ts), kept in step with the database: read whole once the
// store is ready, then for the rows other processes added as soon as the store tells of them
// (PostgreSQL's LISTEN/NOTIFY), and every second in any case; expired rows purged every ten
// minutes.
import fp from 'fastify-plugin'
import { every } from './every.js'
import { createRevocation, type Revocation } from '../../auth/revocation.js'

declare module 'fastify' {
  interface FastifyInstance {
    revocation: Revocation
  }
}

const SYNC_INTERVAL_MS = 1000
const PURGE_INTERVAL_MS = 10 * 60 * 1000

export default fp(async function revocation (app) {
  const revocation = createRevocation({ store: app.store, accessTokenTtl: app.config.ACCESS_TOKEN_TTL, revoked: app.metrics.revoked })
  app.decorate('revocation', revocation)
  app.metrics.source('denylistEntries', revocation.size)

  let unwatch = () => {}
  app.addHook('onReady', async () => {
    // A purge that fails (a long backlog past the statement timeout) does not stop the start:
    // the next round tries again.
    await revocation.purge().catch(err => app.log.error({ err }, 'purge failed'))
    await revocation.sync()
    unwatch = app.store.denylist.watch(() => { revocation.sync().catch(err => app.log.error({ err }, 'denylist sync failed')) })
  })
  // After the first sync (the hook above runs first). A failed round leaves the copy as it was.
  every(app, SYNC_INTERVAL_MS, 'denylist sync', revocation.sync)
  every(app, PURGE_INTERVAL_MS, 'purge', revocation.purge)
  app.addHook('onClose', async () => unwatch())
}, { name: 'revocation', dependencies: ['store', 'metrics'] })
