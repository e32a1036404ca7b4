// The files of this project the service reads at run time, found from this module. It sits
// directly under src/ (tests, through TypeScript) or dist/ (built), as does the bundle that runs
// in production (dist/service.js), so one relative path serves all three.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = import.meta.url

export const prismaDir = fileURLToPath(new URL('../prisma/', here))
export const publicDir = fileURLToPath(new URL('./public/', here))
// Written by the build (src/cli/compile-schemas.ts): there is none under src/.
export const compiledSchemas = fileURLToPath(new URL('./schemas.cjs', here))
const extension = here.endsWith('.ts') ? '.ts' : '.js'
export const passwordWorker = new URL(`./auth/password-worker${extension}`, here)
// Not in the bundle either (OpenTelemetry's SDK, loaded only when traces are on): tsc's output.
export const tracingModule = new URL(`./telemetry/tracing${extension}`, here)
// The browser side of WebAuthn for the page: @simplewebauthn/browser's own bundle, from the package.
export const webauthnBundle = join(dirname(fileURLToPath(import.meta.resolve('@simplewebauthn/browser'))), '..', 'dist', 'bundle', 'index.umd.min.js')
