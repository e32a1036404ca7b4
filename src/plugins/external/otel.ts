// OpenTelemetry's Fastify instrumentation (@fastify/otel), when traces are on
// (src/telemetry/tracing.ts): registered before anything else, so that every route registered
// after it gets its spans (the request's and its handler's; hooks get none, tracing.ts says
// why). Each log line of a request then carries the trace's id (trace_id, span_id): the
// request's logger is bound to its span as soon as the span exists, and the "incoming request"
// line, which Fastify writes before that (src/response-log.ts leaves it out then), is written
// here instead.
import fp from 'fastify-plugin'
import type { Tracing } from '../../telemetry/tracing.js'

export default fp<{ tracing: Tracing }>(async function otel (app, { tracing }) {
  await app.register(tracing.fastifyPlugin())
  app.addHook('onRequest', function traceInLog (request, reply, done) {
    const { span } = request.opentelemetry()
    if (span != null) {
      const { traceId, spanId } = span.spanContext()
      request.log = reply.log = request.log.child({ trace_id: traceId, span_id: spanId })
    }
    request.log.info({ req: request }, 'incoming request')
    done()
  })
}, { name: 'otel' })
