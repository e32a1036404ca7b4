// Security headers, from helmet, computed once: @fastify/helmet rebuilds helmet's middleware,
// CSP parsing included, on every request, and the headers are the same for every answer.
//
// Two sets, as OWASP's REST Security Cheat Sheet draws the line. JSON answers, and answers
// without a body, get its API set: no caching, HTTPS only, no framing, no sniffing, no reading
// by other origins, and no content of any kind if a browser were tricked into rendering one.
// Documents (the page, its files, Swagger UI, and the 304s that revalidate them, whose headers
// replace the cached ones) get helmet's whole set, with a policy that allows this service's own
// scripts and styles plus the hashes of Swagger UI's inline ones. Sending the document headers
// on JSON too would double the bytes of every API answer and protect nothing: those policies
// only ever apply to a rendered document.
import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import helmet from 'helmet'

function headersOf (middleware: ReturnType<typeof helmet>): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader: (name: string, value: string) => { headers[name.toLowerCase()] = value },
    removeHeader: (name: string) => { delete headers[name.toLowerCase()] }
  }
  middleware({} as IncomingMessage, response as unknown as ServerResponse, () => {})
  return headers
}

export default fp(async function securityHeaders (app) {
  const { script, style } = app.swaggerCSP
  const documentHeaders = headersOf(helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'", ...script],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", ...style]
      }
    },
    frameguard: { action: 'deny' }
  }))
  const apiHeaders = {
    // Every answer here carries a token or personal data; Swagger UI's files set their own.
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    // Another origin's no-cors request gets its answer withheld (test/e2e/browser.test.ts).
    'cross-origin-resource-policy': 'same-origin',
    'strict-transport-security': documentHeaders['strict-transport-security'],
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY'
  }

  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(apiHeaders)
    done()
  })
  app.addHook('onSend', (_request, reply, payload, done) => {
    const type = reply.getHeader('content-type')
    if (reply.statusCode === 304 || (typeof type === 'string' && !type.startsWith('application/json'))) reply.headers(documentHeaders)
    done(null, payload)
  })
}, { name: 'security-headers', dependencies: ['swagger'] })
