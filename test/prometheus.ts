// A scrape read as Prometheus reads it: parsed by the Prometheus project's own Python client
// (prometheus_client.parser, Debian's python3-prometheus-client) and linted by promtool
// (Debian's prometheus package), which also runs the alert rules' unit tests. .ci/run installs
// both; elsewhere, without them, the tests that need them skip (and fail under CI=true, so that
// CI cannot skip them by accident).
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'

const PYTHON = '/usr/bin/python3'
const run = promisify(execFile)

const python = await run(PYTHON, ['-c', 'import prometheus_client.parser']).then(() => undefined, () => `no prometheus_client for ${PYTHON}`)
const promtool = await run('promtool', ['--version']).then(() => undefined, () => 'no promtool')
/** Why the Prometheus tools cannot run here, or false. */
export const missingPrometheus: string | false = python !== undefined || promtool !== undefined
  ? `${[python, promtool].filter(Boolean).join(', ')} (apt-get install python3-prometheus-client prometheus)`
  : false
if (missingPrometheus !== false && process.env.CI !== undefined) t.fail(`${missingPrometheus}: CI must install them (.ci/run does)`)

export interface Sample { name: string, labels: Record<string, string>, value: number }
export interface Family { name: string, type: string, help: string, samples: Sample[] }

const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
print(json.dumps([{ 'name': f.name, 'type': f.type, 'help': f.documentation,
  'samples': [{ 'name': s.name, 'labels': s.labels, 'value': s.value } for s in f.samples] }
  for f in text_string_to_metric_families(sys.stdin.read())]))
`

function withInput (command: string, args: string[], input: string): Promise<{ code: number | null, out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', chunk => { out += chunk })
    child.stderr.on('data', chunk => { out += chunk })
    child.on('error', reject)
    child.on('close', code => resolve({ code, out }))
    child.stdin.end(input)
  })
}

/** The metric families of an exposition text, as Prometheus's parser reads them; throws if it cannot. */
export async function parseExposition (text: string): Promise<Family[]> {
  const { code, out } = await withInput(PYTHON, ['-c', PARSE], text)
  if (code !== 0) throw new Error(`the Prometheus parser refused the text: ${out}`)
  return JSON.parse(out) as Family[]
}

/** promtool's lint of an exposition text: its exit code and what it found. */
export const promtoolCheckMetrics = (text: string) => withInput('promtool', ['check', 'metrics'], text)

/** The value of one sample (0 when the scrape has none). */
export function sampleValue (families: Family[], name: string, labels: Record<string, string> = {}): number {
  for (const family of families) {
    for (const sample of family.samples) {
      if (sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) return sample.value
    }
  }
  return 0
}
