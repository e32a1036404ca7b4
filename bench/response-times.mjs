// One response timed into http_request_duration_seconds, in-process, no HTTP: the service's
// histogram (src/telemetry/response-times.ts, from the build) against prom-client's Histogram
// given the same labels, buckets and times. Nanoseconds per observation, the median of rounds
// alternated between the two. `npm run build && node bench/response-times.mjs`
import { Histogram, Registry } from 'prom-client'
import { createResponseTimes } from '../dist/telemetry/response-times.js'

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const ROUTES = ['/secure-data', '/auth/me', '/auth/token', '/auth/refresh', '/auth/sessions/:id']
const N = 1_000_000
const ROUNDS = 7

const registry = new Registry()
const reference = new Histogram({ name: 'reference', help: 'prom-client', labelNames: ['method', 'route', 'status_code'], buckets: BUCKETS, registers: [registry] })
const ours = createResponseTimes({ name: 'ours', help: 'authd', buckets: BUCKETS })

// Each observation as the service makes one: a route, a method, a status, a time in seconds.
const time = i => 0.0002 + (i % 13) * 0.0007
const variants = {
  'prom-client Histogram': i => reference.observe({ method: 'GET', route: ROUTES[i % 5], status_code: 200 + (i & 1) }, time(i)),
  'response-times': i => ours.observe(ROUTES[i % 5], 'GET', 200 + (i & 1), time(i))
}

const runs = Object.fromEntries(Object.keys(variants).map(name => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, observe] of Object.entries(variants)) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < N; i++) observe(i)
    runs[name].push(Number(process.hrtime.bigint() - start) / N)
  }
}
const median = values => values.sort((a, b) => a - b)[values.length >> 1]
for (const [name, values] of Object.entries(runs)) console.log(`${name.padEnd(22)} ${median(values).toFixed(0).padStart(5)} ns per observation`)
