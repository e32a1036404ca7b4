// Fastify's LogController, which sees every response complete whatever the route, and writes
// the request's first and last log lines. The metrics time each response here rather than in
// an onResponse hook of their own, which would add a step to every request; with traces on, the
// "incoming request" line is left to the otel plugin, which writes it once the trace exists
// (src/plugins/external/otel.ts).
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

export class ResponseLog extends LogController {
  /** Told of each response once it is sent (src/plugins/app/metrics.ts). */
  completed: ((request: FastifyRequest, reply: FastifyReply) => void) | undefined

  constructor (private readonly traced: boolean) {
    super()
  }

  override incomingRequest (request: FastifyRequest, reply: FastifyReply): void {
    if (!this.traced) super.incomingRequest(request, reply)
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    this.completed?.(request, reply)
    super.requestCompleted(error, request, reply)
  }
}
