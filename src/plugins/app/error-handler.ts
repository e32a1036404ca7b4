// One place turns every error into a reply: a 4xx with a stable `error` code and a readable
// message, or a 500 that says nothing about the cause (the log keeps it, under the request id).
// Besides the plugin, it exports the two hooks Fastify takes as server options, for the errors
// that happen before routing (a malformed URL) or before a request exists (malformed HTTP).
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { HttpError, InsufficientScope, RateLimited } from '../../errors.js'
import { databaseBusy, databaseUnavailable } from '../../store/index.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Errors use RFC 6749 §5.2 field names: `error_description` instead of `message`. */
    oauthErrors?: boolean
  }
}

// Anything that is not one of the service's own errors (src/errors.ts) is named after its
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

const REALM = 'Bearer realm="authd"'

// RFC 6750 §3: every 401 says how to authenticate, and why a presented token failed (RFC 9470:
// or why it was not enough).
function challenge (error: string, message: string): string {
  return error === 'invalid_token' || error === 'insufficient_user_authentication'
    ? `${REALM}, error="${error}", error_description="${message.replace(/["\\]/g, "'")}"`
    : REALM
}

function send (request: FastifyRequest, reply: FastifyReply, status: number, error: string, message: string) {
  if (status === 401) reply.header('www-authenticate', error === 'invalid_client' ? 'Basic realm="authd", charset="UTF-8"' : challenge(error, message))
  const body = request.routeOptions.config?.oauthErrors === true
    ? { error, error_description: message }
    : { error, message }
  return reply.code(status).send(body)
}

export default fp(async function errorHandler (app) {
  app.setErrorHandler(function (err: FastifyError, request, reply) {
    const status = err.statusCode ?? 500
    const own = err instanceof HttpError

    if (err instanceof InsufficientScope) {
      reply.header('www-authenticate', `${REALM}, error="insufficient_scope", scope="${err.scope}"`)
    }
    if (err instanceof RateLimited) reply.header('retry-after', String(err.retryAfter))
    if (status >= 400 && status < 500) {
      const error = own ? err.code : (BY_STATUS[status] ?? 'invalid_request')
      request.log.info({ error, status, reason: err.message }, 'request refused')
      return send(request, reply, status, error, err.message)
    }
    if (status === 503 && own) {
      reply.header('retry-after', '1')
      return send(request, reply, 503, err.code, err.message)
    }
    if (databaseBusy(err)) {
      request.log.warn({ err }, 'database busy')
      reply.header('retry-after', '1')
      return send(request, reply, 503, 'database_busy', 'The database is busy; retry shortly')
    }
    if (databaseUnavailable(err)) {
      // Nothing was acknowledged; the pool connects anew on the next request.
      request.log.error({ err }, 'database unavailable')
      reply.header('retry-after', '5')
      return send(request, reply, 503, 'database_unavailable', 'The database cannot be reached; retry shortly')
    }
    request.log.error({ err }, 'request failed')
    return send(request, reply, 500, 'internal_error', 'Internal Server Error')
  })

  // Probing for routes is rate limited like the rest (@fastify/rate-limit leaves 404s alone).
  app.setNotFoundHandler({
    preHandler: app.rateLimit({ max: app.config.RATE_LIMIT_NOT_FOUND, timeWindow: 60_000 })
  }, function (request, reply) {
    return send(request, reply, 404, 'not_found', `Route ${request.method} ${request.url.split('?')[0]} not found`)
  })
}, { name: 'error-handler', dependencies: ['rate-limit'] })

/** Fastify's `frameworkErrors`: a URL that cannot be decoded, a path parameter too long. */
export function frameworkErrors (err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return send(request, reply, 400, 'invalid_request', 'The URL is malformed or too long')
  }
  request.log.error({ err }, 'request failed')
  return send(request, reply, 500, 'internal_error', 'Internal Server Error')
}

/**
 * Fastify's `clientErrorHandler`: HTTP that could not be parsed. Fastify's default would log the
 * error with its raw bytes (headers, credentials and all) at trace level; only the code is kept.
 */
export function clientErrorHandler (this: FastifyInstance, err: Error & { code?: string }, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
  const body = JSON.stringify({ error: BY_STATUS[status], message: 'The HTTP request could not be read' })
  this.log.debug({ code: err.code, status }, 'client error')
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
