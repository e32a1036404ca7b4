// The wire floor of the bearer row: the bare app of baseline-server.mjs, answering with the
// headers the service adds to every API answer (its security headers, taken from a live answer
// by run.mjs and passed in WIRE_HEADERS), while the bench sends it the same bearer header. What
// the bearer row costs beyond this is the service's own work: the token's checks, its hooks.
import Fastify from 'fastify'

const headers = JSON.parse(process.env.WIRE_HEADERS ?? '{}')
const app = Fastify({ logger: { level: 'info' } })
app.addHook('onRequest', (_request, reply, done) => {
  reply.headers(headers)
  done()
})
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
