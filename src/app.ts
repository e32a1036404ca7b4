// The service as one plugin: the error handler, external plugins, then the domain's, then the
// routes.
// buildApp() wraps it in a Fastify instance with the server options; service.ts and the tests
// both use it, so that what is tested is what runs.
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { DestinationStream } from 'pino'
import type { Config } from './config.js'
import { validatorCompiler } from './validation.js'

import swagger from './plugins/external/swagger.js'
import securityHeaders from './plugins/external/security-headers.js'
import rateLimit from './plugins/external/rate-limit.js'
import cookie from './plugins/external/cookie.js'
import cors from './plugins/external/cors.js'
import staticFiles from './plugins/external/static-files.js'
import jwt from './plugins/external/jwt.js'
import otel from './plugins/external/otel.js'
import { ResponseLog } from './response-log.js'
import type { Tracing } from './telemetry/tracing.js'

import metrics from './plugins/app/metrics.js'
import errorHandler, { clientErrorHandler, frameworkErrors } from './plugins/app/error-handler.js'
import bodies from './plugins/app/bodies.js'
import passwords from './plugins/app/passwords.js'
import store from './plugins/app/store.js'
import mailer from './plugins/app/mailer.js'
import mailTokens from './plugins/app/mail-tokens.js'
import accounts from './plugins/app/accounts.js'
import recovery from './plugins/app/recovery.js'
import secondFactors from './plugins/app/second-factors.js'
import challenges from './plugins/app/challenges.js'
import passkeys from './plugins/app/passkeys.js'
import csrf from './plugins/app/csrf.js'
import sessionCookies from './plugins/app/session-cookies.js'
import revocation from './plugins/app/revocation.js'
import signingKeys from './plugins/app/signing-keys.js'
import accessTokens from './plugins/app/access-tokens.js'
import sessions from './plugins/app/sessions.js'
import authenticate from './plugins/app/authenticate.js'
import clients from './plugins/app/clients.js'
import introspection from './plugins/app/introspection.js'
import passwordAttempts from './plugins/app/password-attempts.js'
import scopes from './plugins/app/scopes.js'
import admin from './plugins/app/admin.js'

import health from './routes/health.js'
import auth from './routes/auth/index.js'
import adminRoutes from './routes/admin/index.js'
import secureData from './routes/secure-data.js'
import wellKnown from './routes/well-known.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export default async function app (fastify: FastifyInstance, { config, tracing, responses }: { config: Config, tracing?: Tracing, responses: ResponseLog }) {
  fastify.decorate('config', config)
  for (const warning of config.warnings) fastify.log.warn(warning)
  // Traces first: what is registered before them has no spans.
  if (tracing !== undefined) await fastify.register(otel, { tracing })

  // Requests still in flight when the server closes answer with Connection: close; otherwise a
  // keep-alive client holds its socket and close() waits for the idle timeout.
  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })

  await fastify.register(metrics, { responses })
  // The error handler first, so that every route, the external plugins' own included (Swagger
  // UI's), answers errors in the one shape; it rate-limits unknown routes.
  await fastify.register(rateLimit)
  await fastify.register(errorHandler)
  await fastify.register(swagger)
  await fastify.register(securityHeaders)
  await fastify.register(cookie)
  await fastify.register(cors)
  await fastify.register(staticFiles)
  await fastify.register(jwt)

  // The store first: its onReady hook (the migrations) comes before any that reads the database.
  await fastify.register(store, { statements: tracing?.statements })
  await fastify.register(bodies)
  await fastify.register(passwords)
  await fastify.register(revocation)
  await fastify.register(mailer)
  await fastify.register(mailTokens)
  await fastify.register(accounts)
  await fastify.register(recovery)
  await fastify.register(secondFactors)
  await fastify.register(challenges)
  await fastify.register(passkeys)
  await fastify.register(csrf)
  await fastify.register(sessionCookies)
  await fastify.register(signingKeys)
  await fastify.register(accessTokens)
  await fastify.register(sessions)
  await fastify.register(authenticate)
  await fastify.register(clients)
  await fastify.register(introspection)
  await fastify.register(passwordAttempts)
  await fastify.register(scopes)
  await fastify.register(admin)

  await fastify.register(health)
  await fastify.register(auth, { prefix: '/auth' })
  await fastify.register(adminRoutes, { prefix: '/admin' })
  await fastify.register(secureData)
  await fastify.register(wellKnown)
}

export function loggerOptions (config: Config, stream?: DestinationStream): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    ...(stream !== undefined && { stream }),
    // Nothing secret is handed to the logger: no headers, no bodies, URLs without their query
    // (below), unparsable HTTP by its error code only (plugins/app/error-handler.ts). The one
    // redaction left is a net under that last one; wildcard paths would cost every request.
    redact: { paths: ['err.rawPacket'], censor: '[redacted]' },
    serializers: {
      // The path without its query string: a client that puts a token there should not get it
      // written to disk, whatever the parameter is called or however it is encoded.
      req: (req) => {
        const query = req.url.indexOf('?')
        return { method: req.method, url: query === -1 ? req.url : req.url.slice(0, query), remoteAddress: req.ip }
      }
    }
  }
}

export function buildApp (config: Config, options: { logStream?: DestinationStream, tracing?: Tracing } = {}) {
  const responses = new ResponseLog(options.tracing !== undefined)
  const fastify = Fastify({
    logger: loggerOptions(config, options.logStream),
    logController: responses,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Off by default: a client could otherwise claim any address or origin with X-Forwarded-*.
    trustProxy: config.trustProxy,
    // Credentials and tokens are small; nothing here needs a large body.
    bodyLimit: 16 * 1024,
    schemaController: validatorCompiler(),
    frameworkErrors,
    clientErrorHandler
  }).withTypeProvider<TypeBoxTypeProvider>()
  // fp: the decorators (store, sessions, ...) are reachable from the returned instance, for tests.
  fastify.register(fp(app), { config, tracing: options.tracing, responses })
  return fastify
}
