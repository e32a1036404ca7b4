// migrate() on a worker thread, started by migrateOnWorker() (./migrate.ts): the schema engine's
// WebAssembly and its writes take another core while the main thread loads the rest of the app.
import { parentPort, workerData } from 'node:worker_threads'
import { migrate } from './migrate.js'

parentPort?.postMessage(await migrate(workerData as string))
