// The operator's metrics (src/telemetry/metrics.ts), when METRICS_PORT is set: every response
// timed by its route pattern (as Fastify's log controller sees it complete, src/response-log.ts),
// and GET /metrics served by a listener of its own on that port,
// started with the app and closed with it. The public port has no such route: there, /metrics is
// a 404 like any unknown path. Unset, the counters the other plugins feed cost nothing, and
// prom-client is not even loaded.
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import { uncounted, type Outcomes } from '../../auth/outcomes.js'
import type { DenyEntry } from '../../store/index.js'
import type { Sources } from '../../telemetry/metrics.js'
import type { ResponseLog } from '../../response-log.js'

export interface AppMetrics extends Outcomes {
  revoked (entries: readonly DenyEntry[]): void
  passwordWait (seconds: number): void
  source<K extends keyof Sources> (name: K, read: Sources[K]): void
  /** Where GET /metrics is served, once the app is ready; undefined when metrics are off. */
  address (): AddressInfo | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: AppMetrics
  }
}

const off: AppMetrics = { ...uncounted, revoked () {}, passwordWait () {}, source () {}, address: () => undefined }

export default fp<{ responses: ResponseLog }>(async function metrics (app, { responses }) {
  const port = app.config.METRICS_PORT
  if (port === undefined) {
    app.decorate('metrics', off)
    return
  }
  const { createMetrics } = await import('../../telemetry/metrics.js')
  const metrics = createMetrics({ failed: (err, metric) => app.log.warn({ err, metric }, 'metric could not be read') })
  const listener = Fastify({ logger: false })
  listener.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()))
  app.decorate('metrics', { ...metrics, address: () => listener.server.address() as AddressInfo | null ?? undefined })

  // Unknown paths have no pattern: they share one label value.
  responses.completed = (request, reply) => {
    metrics.request(request.routeOptions.url ?? 'not_found', request.method, reply.statusCode, reply.elapsedTime / 1000)
  }
  app.addHook('onReady', async () => {
    await listener.listen({ host: app.config.HOST, port })
    app.log.info({ address: listener.server.address() }, 'metrics served at /metrics')
  })
  app.addHook('onClose', () => listener.close())
}, { name: 'metrics' })
