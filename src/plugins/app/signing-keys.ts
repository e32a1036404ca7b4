// The signing keys (src/auth/signing-keys.ts): brought in line with their schedule once the
// store is ready, then every minute (a rotation due, a key another instance created), and read
// again at once when a key is revoked anywhere (the denylist tells).
import fp from 'fastify-plugin'
import { every } from './every.js'
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
  if (app.config.JWT_ALG !== 'HS256' && app.config.keysFile === undefined) app.metrics.source('signingKeyAge', keys.signerAge)

  let unwatch = () => {}
  app.addHook('onReady', async () => {
    await keys.maintain()
    unwatch = app.revocation.watchKeys(() => { keys.reload().catch(err => app.log.error({ err }, 'signing keys: reload failed')) })
  })
  every(app, MAINTAIN_INTERVAL_MS, 'signing keys: maintenance', keys.maintain)
  app.addHook('onClose', async () => unwatch())
}, { name: 'signing-keys', dependencies: ['store', 'revocation', 'metrics'] })
