// A plugin's periodic task: started once the app is ready (after the plugin's own onReady work,
// when that was added first), stopped when it closes. A failed round is logged, and the next
// tick tries again. The timer never keeps the process alive.
import type { FastifyInstance } from 'fastify'

export function every (app: FastifyInstance, ms: number, what: string, task: () => Promise<unknown>): void {
  let timer: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    timer = setInterval(() => { task().catch(err => app.log.error({ err }, `${what} failed`)) }, ms).unref()
  })
  app.addHook('onClose', async () => clearInterval(timer))
}
