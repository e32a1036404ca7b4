// The signing keys (src/auth/signing-keys.ts): brought in line with their schedule once the
// store is ready, then every minute (a rotation due, a key another instance created), and read
// again at once when a key is revoked anywhere (the denylist tells).
import fp from 'fastify-plugin'
import { createSigningKeys, type SigningKeys } from '../../auth/signing-keys.js'

declare module 'fastify' {
  interface FastifyInstance {
    signingKeys: SigningKeys
  }
}

const MAINTAIN_INTERVAL_MS = 60_000

export default fp(async function signingKeys (app) {
  const keys = createSigningKeys({ store: app.store, revocation: app.revocation, config: app.config, keysFile: app.config.keysFile, log: app.log })
  app.decorate('signingKeys', keys)

  let timer: NodeJS.Timeout | undefined
  let unwatch = () => {}
  app.addHook('onReady', async () => {
    await keys.maintain()
    timer = setInterval(() => { keys.maintain().catch(err => app.log.error({ err }, 'signing keys: maintenance failed')) }, MAINTAIN_INTERVAL_MS)
    timer.unref()
    unwatch = app.revocation.watchKeys(() => { keys.reload().catch(err => app.log.error({ err }, 'signing keys: reload failed')) })
  })
  app.addHook('onClose', async () => {
    unwatch()
    clearInterval(timer)
  })
}, { name: 'signing-keys', dependencies: ['store', 'revocation'] })
