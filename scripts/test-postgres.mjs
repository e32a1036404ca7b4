// `npm run test:postgres`: the route, plugin and store suites again, on PostgreSQL, each app on
// a database of its own (test/postgres.ts). TEST_POSTGRES_URL names the server, with a user
// allowed to create databases. Without it the PostgreSQL half is skipped, and says so; in CI
// (CI=true) it is required.
import { spawnSync } from 'node:child_process'
import pg from 'pg'

const url = process.env.TEST_POSTGRES_URL
if (url === undefined || url === '') {
  const message = 'TEST_POSTGRES_URL is not set: the PostgreSQL half of the tests was SKIPPED. ' +
    'To run it: TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres npm test'
  if (process.env.CI === 'true') {
    console.error(`test:postgres: ${message.replace('was SKIPPED', 'cannot run')}; CI requires it`)
    process.exit(1)
  }
  console.log(`\n# ${message}\n`)
  process.exit(0)
}

const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
try {
  await client.connect()
  await client.query('SELECT 1')
} catch (err) {
  console.error(`test:postgres: cannot reach TEST_POSTGRES_URL (${url.replace(/\/\/[^/\s]*@/, '//***@')}): ${err.message || err.code}`)
  process.exit(1)
} finally {
  await client.end().catch(() => {})
}

const suites = ['test/routes', 'test/plugins', 'test/auth/limits.test.ts', 'test/store/store.test.ts', 'test/store/postgres.test.ts', 'test/store/postgres-instances.test.ts', 'test/store/copy.test.ts', 'test/store/postgres-crash.test.ts', 'test/store/read-cache.test.ts', 'test/cli/keys.test.ts', 'test/cli/create-client.test.ts', 'test/auth/alg-change.test.ts', 'test/auth/mailer.test.ts', 'test/telemetry/tracing.test.ts']
const { status } = spawnSync('npx', ['tap', ...suites], { stdio: 'inherit', env: { ...process.env, TEST_ENGINE: 'postgres' } })
process.exit(status ?? 1)
