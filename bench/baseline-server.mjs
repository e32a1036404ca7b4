// The yardstick: a bare Fastify app with the service's logger settings (pino JSON at info, one
// line per request and per response), answering {hello:"world"}: to a GET, and to a POST of a
// form (@fastify/formbody, as the service parses the OAuth endpoints' bodies), the baseline of
// the rows that post one.
import Fastify from 'fastify'
import formbody from '@fastify/formbody'

const app = Fastify({ logger: { level: 'info' } })
await app.register(formbody)
app.get('/', async () => ({ hello: 'world' }))
app.post('/', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
