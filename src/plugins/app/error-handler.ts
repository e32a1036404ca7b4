// One place turns every error into a reply: a 4xx with a stable `error` code and a readable
// message, or a 500 that says nothing about the cause (the log keeps it, under the request id).
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from '../../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Errors use RFC 6749 §5.2 field names: `error_description` instead of `message`. */
    oauthErrors?: boolean
  }
}

// The service's own errors (src/errors.ts) carry their code; anything else is named after its
// status, so that a client never sees a framework's internal code.
const BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  411: 'length_required',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large'
}

function send (request: FastifyRequest, reply: FastifyReply, status: number, error: string, message: string) {
  const body = request.routeOptions.config?.oauthErrors === true
    ? { error, error_description: message }
    : { error, message }
  return reply.code(status).send(body)
}

export default fp(async function errorHandler (app) {
  app.setErrorHandler(function (err: FastifyError, request, reply) {
    const status = err.statusCode ?? 500
    const own = err instanceof HttpError

    if (status >= 400 && status < 500) {
      const error = own ? err.code : (BY_STATUS[status] ?? 'invalid_request')
      request.log.info({ error, status, reason: err.message }, 'request refused')
      return send(request, reply, status, error, err.message)
    }
    if (status === 503 && own) {
      reply.header('retry-after', '1')
      return send(request, reply, 503, err.code, err.message)
    }
    request.log.error({ err }, 'request failed')
    return send(request, reply, 500, 'internal_error', 'Internal Server Error')
  })

  app.setNotFoundHandler(function (request, reply) {
    return send(request, reply, 404, 'not_found', `Route ${request.method} ${request.url.split('?')[0]} not found`)
  })
}, { name: 'error-handler' })
