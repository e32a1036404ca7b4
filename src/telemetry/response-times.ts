// http_request_duration_seconds: every response's time, by method, route pattern and status
// code, written in Prometheus's text format at each scrape. Not a prom-client Histogram, whose
// observe() makes a string of the labels and keys each bucket by its bound turned into a string,
// on every request; here a response finds its counts through three small Maps and adds to an
// array, which allocates nothing once its series exists (bench/response-times.mjs measures both).
// The text is what prom-client writes for a histogram, so a test checks one against the other.

interface ResponseTimesOptions {
  name: string
  help: string
  /** Upper bounds in seconds, ascending; +Inf is added. */
  buckets: readonly number[]
}

interface Series {
  /** Per bucket, the responses at most its bound and above the one before; the last is +Inf. */
  counts: Float64Array
  sum: number
}

// Label values escaped as the text format wants them: backslash, double quote and line feed.
const escape = (value: string) => value.replace(/[\\"\n]/g, c => c === '\n' ? '\\n' : `\\${c}`)

export function createResponseTimes ({ name, help, buckets }: ResponseTimesOptions) {
  const bounds = Float64Array.from(buckets)
  // route → method → status → series: routes and methods come from the route table and HTTP,
  // statuses are three digits, so the number of series stays bounded.
  const routes = new Map<string, Map<string, Map<number, Series>>>()

  function series (route: string, method: string, status: number): Series {
    let methods = routes.get(route)
    if (methods === undefined) routes.set(route, methods = new Map())
    let statuses = methods.get(method)
    if (statuses === undefined) methods.set(method, statuses = new Map())
    let found = statuses.get(status)
    if (found === undefined) statuses.set(status, found = { counts: new Float64Array(bounds.length + 1), sum: 0 })
    return found
  }

  return {
    observe (route: string, method: string, status: number, seconds: number): void {
      const found = series(route, method, status)
      let bucket = 0
      while (bucket < bounds.length && seconds > bounds[bucket]) bucket++
      found.counts[bucket]++
      found.sum += seconds
    },

    /** The family in the text format, ending with a line feed. */
    text (): string {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`]
      for (const [route, methods] of routes) {
        for (const [method, statuses] of methods) {
          for (const [status, { counts, sum }] of statuses) {
            const labels = `method="${escape(method)}",route="${escape(route)}",status_code="${status}"`
            let total = 0
            for (let bucket = 0; bucket < counts.length; bucket++) {
              total += counts[bucket]
              const le = bucket < bounds.length ? String(bounds[bucket]) : '+Inf'
              lines.push(`${name}_bucket{le="${le}",${labels}} ${total}`)
            }
            lines.push(`${name}_sum{${labels}} ${sum}`, `${name}_count{${labels}} ${total}`)
          }
        }
      }
      return lines.join('\n') + '\n'
    }
  }
}
