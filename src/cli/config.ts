// The configuration of a CLI command: the service's own (environment and .env), or the command
// fails with the variable's problem in one line.
import { ConfigError, loadConfig, loadEnvFile, type Config } from '../config.js'

export function cliConfig (fail: (message: string) => never): Config {
  try {
    loadEnvFile()
    return loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) fail(`configuration error: ${err.message}`)
    throw err
  }
}
