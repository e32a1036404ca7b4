// OpenTelemetry traces, when OTEL_EXPORTER_OTLP_ENDPOINT is set: a span for each request and for
// its hooks and handler (@fastify/otel, registered by src/plugins/external/otel.ts), one for
// each Prisma query (src/store/query-tracing.ts) and each of the store's own statements, with the
// statement's name and never its values, sent in batches by OTLP over HTTP (protobuf)
// to the collector. A request with a W3C traceparent header continues its caller's trace.
// Not part of the bundle: service.ts loads it (tsc's output, beside the bundle) only when traces
// are on, so that a start without them loads none of the SDK.
import { setTimeout as sleep } from 'node:timers/promises'
import { DiagLogLevel, SpanKind, SpanStatusCode, context, diag, propagation } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace'
import { ATTR_URL_PATH } from '@opentelemetry/semantic-conventions'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import { traceQueries } from '../store/query-tracing.js'
import type { Statements } from '../store/index.js'

// A collector that does not answer must not hold the process's exit: what is still unsent
// then is dropped.
const SHUTDOWN_MS = 3000

export interface TracingOptions {
  /** Where spans go, each as it ends (tests); by default OTLP, in batches, where the OTEL_EXPORTER_OTLP_* variables say. */
  exporter?: SpanExporter
}

export function startTracing ({ exporter }: TracingOptions = {}) {
  // The context follows each request through its awaits; the caller's trace comes in traceparent.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())

  const provider = new TracerProvider({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the default name.
    resource: defaultResource()
      .merge(resourceFromAttributes({ 'service.name': 'authd' }))
      .merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [exporter === undefined ? new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }) : new SimpleSpanProcessor({ exporter })]
  })
  const stopQueries = traceQueries(provider)

  const fastify = new FastifyOtelInstrumentation({
    // The request, its handler and its queries: a span for each of the app's hooks as well would
    // multiply the spans of every request by ten, and the orchestrator's probes none at all.
    instrumentHooks: false,
    ignorePaths: ({ url }) => url === '/health' || url === '/ready',
    // Named as the semantic conventions name server spans, and with the path only: a query
    // string may hold a token (a mailed link's), as the log's URLs leave it out too.
    requestHook (span, request) {
      span.updateName(request.routeOptions.url === undefined ? request.method : `${request.method} ${request.routeOptions.url}`)
      const query = request.url.indexOf('?')
      if (query !== -1) span.setAttribute(ATTR_URL_PATH, request.url.slice(0, query))
    }
  })
  fastify.setTracerProvider(provider)

  // The store's own statements, which bypass Prisma: a client span each, by name. A failure
  // marks it by its error code only (a driver's message may quote a value).
  const tracer = provider.getTracer('authd-store')
  const statements: Statements = (engine, name, run) => {
    const system = engine === 'postgres' ? 'postgresql' : 'sqlite'
    return tracer.startActiveSpan(`${system} ${name}`, { kind: SpanKind.CLIENT, attributes: { 'db.system.name': system, 'db.operation.name': name } }, async span => {
      try {
        return await run()
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String((err as { code?: unknown }).code ?? 'error') })
        throw err
      } finally {
        span.end()
      }
    })
  }

  return {
    provider,
    /** The Fastify plugin that makes the spans of each request. */
    fastifyPlugin: () => fastify.plugin(),
    statements,
    /**
     * Where the SDK's own complaints go (a collector that refuses or cannot be reached): the
     * app's log, as warnings. They name the failure, never a span's content.
     */
    logTo (log: { warn (details: object, message: string): void }) {
      const warn = (message: string, ...args: unknown[]) => log.warn({ detail: args.map(String) }, `opentelemetry: ${message}`)
      diag.setLogger({ error: warn, warn, info () {}, debug () {}, verbose () {} }, DiagLogLevel.WARN)
    },

    /** Sends the spans still waiting (for three seconds at most), then stops. */
    async shutdown () {
      stopQueries()
      // A last export the collector refuses is told like any other (logTo), and ends nothing.
      const flushed = provider.shutdown().catch(err => diag.error('the last spans could not be sent', err))
      await Promise.race([flushed, sleep(SHUTDOWN_MS, undefined, { ref: false })])
    }
  }
}

export type Tracing = ReturnType<typeof startTracing>
