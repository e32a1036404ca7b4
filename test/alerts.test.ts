// The example alert rules of docs/alerts.yml (README: Operating), checked and unit-tested by
// promtool: each fires on the series it is meant for, and not on one just short of it
// (test/fixtures/alerts.test.yml). Their metric names are the service's own (the scenario of
// test/plugins/app/metrics.test.ts scrapes them).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { missingPrometheus } from './prometheus.js'

const run = promisify(execFile)
const root = new URL('..', import.meta.url).pathname

t.test('docs/alerts.yml is valid, and its alerts fire when they should and only then', { skip: missingPrometheus }, async t => {
  const checked = await run('promtool', ['check', 'rules', 'docs/alerts.yml'], { cwd: root })
  t.match(checked.stdout, /SUCCESS: 3 rules found/)
  const tested = await run('promtool', ['test', 'rules', 'test/fixtures/alerts.test.yml'], { cwd: root })
  t.match(tested.stdout, /SUCCESS/)
})
