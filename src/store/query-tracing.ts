// Spans for Prisma's queries (@prisma/instrumentation), on either engine: the statement with its
// placeholders, never the values bound to them. Here because only the store knows Prisma.
import { PrismaInstrumentation } from '@prisma/instrumentation'
import type { TracerProvider } from '@opentelemetry/api'

/** Starts tracing Prisma's queries in this process; returns the stop. */
export function traceQueries (provider: TracerProvider): () => void {
  const instrumentation = new PrismaInstrumentation({ enabled: false })
  instrumentation.setTracerProvider(provider)
  instrumentation.enable()
  return () => instrumentation.disable()
}
