// The yardstick: a bare Fastify app with the service's logger settings (pino JSON at info, one
// line per request and per response), answering {hello:"world"}.
import Fastify from 'fastify'

const app = Fastify({ logger: { level: 'info' } })
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
