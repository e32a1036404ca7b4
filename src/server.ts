// Process entry: configuration, the app, listen, and a graceful close on SIGTERM/SIGINT.
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig, loadEnvFile, type Config } from './config.js'
import { migrateEarly } from './db/migrate.js'

let config: Config
try {
  loadEnvFile()
  config = loadConfig()
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  // One line, no stack: the operator has one thing to fix.
  console.error(`authd: configuration error: ${err.message}`)
  process.exit(1)
}

// The migrations start on another core first; the app, imported only then, loads meanwhile.
migrateEarly(config.DATABASE_URL)
const { buildApp } = await import('./app.js')
const app = buildApp(config)

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'closing after an uncaught error')
  else app.log.info({ signal }, 'closing')
  await app.close()
})

try {
  await app.listen({ host: config.HOST, port: config.PORT })
} catch (err) {
  app.log.fatal({ err }, 'could not start')
  process.exit(1)
}
