// Credentialed cross-origin calls only from CORS_ORIGINS; any other origin gets no
// Access-Control-Allow-Origin, so its scripts cannot read a single answer.
import fp from 'fastify-plugin'
import fastifyCors from '@fastify/cors'

export default fp(async function cors (app) {
  const origins = app.config.corsOrigins
  // No allowed origin, no plugin: no header to add, and nothing to run on every request.
  if (origins.length === 0) return
  await app.register(fastifyCors, {
    origin: origins,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-csrf-token'],
    maxAge: 600
  })
}, { name: 'cors' })
