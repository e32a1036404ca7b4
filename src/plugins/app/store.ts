// The store (src/store): opened as the app loads, migrated in its ready() and used from onReady
// on. Its onReady hook is the first of the app's (plugins registered after it read the database
// in theirs).
import fp from 'fastify-plugin'
import { createStore, type Statements, type Store } from '../../store/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
  }
}

export default fp<{ statements?: Statements }>(async function store (app, { statements }) {
  const { DATABASE_URL, DATABASE_POOL_MAX, DATABASE_STATEMENT_TIMEOUT_MS, DATABASE_CONNECT_TIMEOUT_MS } = app.config
  const store = createStore(DATABASE_URL, {
    poolMax: DATABASE_POOL_MAX,
    statementTimeoutMs: DATABASE_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: DATABASE_CONNECT_TIMEOUT_MS
  }, { statements })
  app.decorate('store', store)
  if (store.poolStats !== undefined) app.metrics.source('databasePool', store.poolStats)
  app.addHook('onReady', async () => {
    const applied = await store.ready()
    if (applied.length > 0) app.log.info({ migrations: applied }, 'database migrated')
  })
  app.addHook('onClose', () => store.close())
}, { name: 'store', dependencies: ['metrics'] })
