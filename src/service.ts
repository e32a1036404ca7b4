// The service, started by ./server.ts (bundled into dist/service.js): configuration, traces when
// configured, the app, listen, and a graceful close on SIGTERM/SIGINT (the spans still waiting
// are sent last).
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig, loadEnvFile, type Config } from './config.js'
import { DatabaseStartError } from './store/engine.js'
import { tracingModule } from './paths.js'
import type { Tracing } from './telemetry/tracing.js'

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

let app: ReturnType<typeof import('./app.js').buildApp> | undefined
let tracing: Tracing | undefined

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (app === undefined) {
    if (err !== undefined) console.error(err)
  } else if (err !== undefined) {
    app.log.error({ err }, 'closing after an uncaught error')
  } else {
    app.log.info({ signal }, 'closing')
  }
  await app?.close()
  await tracing?.shutdown()
})

if (config.OTEL_EXPORTER_OTLP_ENDPOINT !== '') {
  const { startTracing } = await import(tracingModule.href) as typeof import('./telemetry/tracing.js')
  tracing = startTracing()
}
// Imported once the configuration is known good and traces are on: a configuration error stops
// the process without loading the app, and the app's modules load under the tracer.
const { buildApp } = await import('./app.js')
app = buildApp(config, { tracing })
tracing?.logTo(app.log)
try {
  await app.listen({ host: config.HOST, port: config.PORT })
} catch (err) {
  if (err instanceof DatabaseStartError) {
    // One line, no stack, as for a configuration error: the database named in it is the thing to fix.
    console.error(`authd: ${err.message}`)
  } else {
    app.log.fatal({ err }, 'could not start')
  }
  process.exit(1)
}
