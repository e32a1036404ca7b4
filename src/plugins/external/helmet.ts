// Security headers on every answer (@fastify/helmet). The Content-Security-Policy allows this
// service's own scripts and styles, plus the hashes of Swagger UI's inline ones; nothing else.
import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'

export default fp(async function securityHeaders (app) {
  const { script, style } = app.swaggerCSP
  await app.register(helmet, {
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
  })
}, { name: 'helmet', dependencies: ['swagger'] })
