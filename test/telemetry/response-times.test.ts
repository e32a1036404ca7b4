// The HTTP histogram writes what prom-client's own Histogram writes for the same responses:
// the same lines, counts, sums and escapes, whatever order the responses came in.
import { Histogram, Registry } from 'prom-client'
import t from 'tap'
import { createResponseTimes } from '../../src/telemetry/response-times.js'

const NAME = 'http_request_duration_seconds'
const HELP = 'Time to answer an HTTP request, by method, route pattern and status code'
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

type Response = [route: string, method: string, status: number, seconds: number]

// Series in a different order mean nothing to Prometheus: compare the lines as sets.
const lines = (text: string) => text.split('\n').filter(line => line !== '').sort()

async function both (responses: Response[]) {
  const registry = new Registry()
  const reference = new Histogram({ name: NAME, help: HELP, labelNames: ['method', 'route', 'status_code'], buckets: BUCKETS, registers: [registry] })
  const ours = createResponseTimes({ name: NAME, help: HELP, buckets: BUCKETS })
  for (const [route, method, status, seconds] of responses) {
    reference.observe({ method, route, status_code: status }, seconds)
    ours.observe(route, method, status, seconds)
  }
  return { ours: ours.text(), theirs: await registry.metrics() }
}

t.test('the same lines as prom-client: each bound holds what is at most it, +Inf and count hold all, sum adds up', async t => {
  // On a bound, just above it, above the last, zero; three routes, two methods, three statuses.
  const times = [0, 0.0004, 0.001, 0.0010001, 0.005, 0.03, 0.25, 0.7, 2.5, 9.99, 10, 10.5, 120]
  const responses: Response[] = []
  for (const [i, seconds] of times.entries()) {
    responses.push(['/auth/token', 'POST', i % 3 === 0 ? 400 : 200, seconds])
    responses.push(['/auth/sessions/:id', i % 2 === 0 ? 'GET' : 'DELETE', 404, seconds / 3])
  }
  responses.push(['not_found', 'GET', 404, 0.0001])
  const { ours, theirs } = await both(responses)
  t.same(lines(ours), lines(theirs))
  t.ok(ours.endsWith('\n') && !ours.endsWith('\n\n'), 'one family, ending with a line feed')

  // And what the lines say, spelled out for one series: POST /auth/token 400 got the times at
  // 0, 3, 6, 9 and 12: 0 s, 0.0010001 s (just above a bound), 0.25 s (on one), 9.99 s and 120 s.
  const series = (suffix: string, le?: string) => {
    const labels = `${le === undefined ? '' : `le="${le}",`}method="POST",route="/auth/token",status_code="400"`
    return Number(ours.split('\n').find(line => line.startsWith(`${NAME}_${suffix}{${labels}} `))?.split(' ')[1])
  }
  t.equal(series('bucket', '0.001'), 1, '0 s')
  t.equal(series('bucket', '0.0025'), 2, 'then 0.0010001 s, in the next bucket')
  t.equal(series('bucket', '0.1'), 2)
  t.equal(series('bucket', '0.25'), 3, 'then 0.25 s, on the bound')
  t.equal(series('bucket', '10'), 4, 'then 9.99 s')
  t.equal(series('bucket', '+Inf'), 5, 'then 120 s, above the last bound')
  t.equal(series('count'), 5)
  t.equal(series('sum'), 0 + 0.0010001 + 0.25 + 9.99 + 120)
})

t.test('label values are escaped as prom-client escapes them', async t => {
  const { ours, theirs } = await both([['/a"b\\c\nd', 'GET', 200, 0.002]])
  t.same(lines(ours), lines(theirs))
  t.ok(ours.includes('route="/a\\"b\\\\c\\nd"'))
})

t.test('no response yet: the family is announced with no series', async t => {
  const { ours, theirs } = await both([])
  t.same(lines(ours), lines(theirs))
  t.equal(ours, `# HELP ${NAME} ${HELP}\n# TYPE ${NAME} histogram\n`)
})
