// npm run db:copy -- --to postgres://user:password@host:5432/database [--from file:./data/auth.db]
// Moves a deployment from SQLite to PostgreSQL: copies every row of the SQLite database (by
// default the configured DATABASE_URL) into an empty PostgreSQL database, migrating it first.
// Stop the service first, so that nothing is written to SQLite after the copy; then start it
// with DATABASE_URL set to the PostgreSQL URL. Sessions and tokens carry over: nobody is logged out.
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig, loadEnvFile } from '../config.js'
import { copySqliteToPostgres, isPostgresUrl } from '../store/index.js'

const USAGE = 'usage: npm run db:copy -- --to postgres://user:password@host:5432/database [--from file:./data/auth.db]'

function fail (message: string): never {
  console.error(`db:copy: ${message}`)
  process.exit(1)
}

let args: { from?: string, to?: string }
try {
  args = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } }).values
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`)
}
if (args.to === undefined || !isPostgresUrl(args.to)) fail(`--to must be a postgres:// or postgresql:// URL\n${USAGE}`)
let from = args.from
if (from === undefined) {
  try {
    loadEnvFile()
    from = loadConfig().DATABASE_URL
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message)
    throw err
  }
}
if (!from.startsWith('file:')) fail(`--from must be a SQLite file: URL (got ${isPostgresUrl(from) ? 'a PostgreSQL URL' : JSON.stringify(from)})\n${USAGE}`)

try {
  const counts = await copySqliteToPostgres(from, args.to, line => console.log(line))
  console.log(`copied ${Object.values(counts).reduce((a, b) => a + b, 0)} rows from ${from}`)
} catch (err) {
  // Copy's own errors say what to do; PostgreSQL's never carry the URL.
  fail((err as Error).message)
}
