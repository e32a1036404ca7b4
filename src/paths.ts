// The files the service reads at run time, found from this module. It sits directly under src/
// (tests, through TypeScript) or dist/ (built), as does the bundle that runs in production
// (dist/server.js), so one relative path serves all three.
import { fileURLToPath } from 'node:url'

const here = import.meta.url

export const prismaDir = fileURLToPath(new URL('../prisma/', here))
export const publicDir = fileURLToPath(new URL('./public/', here))
export const passwordWorker = new URL(`./plugins/app/password-worker${here.endsWith('.ts') ? '.ts' : '.js'}`, here)
