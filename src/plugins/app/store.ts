// The store (src/store): opened as the app loads, so that the migrations run on their worker
// thread meanwhile; used from onReady on, once they are applied. Its onReady hook is the first
// of the app's (plugins registered after it read the database in theirs).
import fp from 'fastify-plugin'
import { createStore, type Store } from '../../store/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
  }
}

export default fp(async function store (app) {
  const store = createStore(app.config.DATABASE_URL)
  app.decorate('store', store)
  app.addHook('onReady', async () => {
    const applied = await store.ready()
    if (applied.length > 0) app.log.info({ migrations: applied }, 'database migrated')
  })
  app.addHook('onClose', () => store.close())
}, { name: 'store' })
