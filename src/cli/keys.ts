// npm run keys:list | keys:rotate | keys:revoke -- <kid>
// The signing keys of the configured database (the same environment and .env as the service):
// - list: each key's kid, algorithm, state and dates, one JSON object per line;
// - rotate: a new key, published at once, that signs one JWKS cache lifetime from now (the
//   instances pick it up within a minute, long before it signs);
// - revoke: out of the JWKS, and every token it signed refused by every instance at once; if it
//   was signing, a new key signs from now. Sessions live on: their next refresh gets a token
//   under the new key.
import { buildApp } from '../app.js'
import { cliConfig } from './config.js'
import { KeysFromFile } from '../auth/signing-keys.js'
import { unsupportedNode } from '../runtime.js'

const USAGE = 'usage: npm run keys:list | npm run keys:rotate | npm run keys:revoke -- <kid>'

function fail (message: string): never {
  console.error(`keys: ${message}`)
  process.exit(1)
}

const unsupported = unsupportedNode()
if (unsupported !== undefined) fail(unsupported)

const [command, kid, ...extra] = process.argv.slice(2)
if (!['list', 'rotate', 'revoke'].includes(command) || (command === 'revoke') !== (kid !== undefined) || extra.length > 0) fail(USAGE)

const config = cliConfig(fail)

const app = buildApp({ ...config, LOG_LEVEL: 'error' })
try {
  await app.ready()
  const keys = app.signingKeys
  if (command === 'rotate') {
    console.log(JSON.stringify(await keys.rotate()))
  } else if (command === 'revoke') {
    if (await keys.revoke(kid)) {
      console.log(JSON.stringify({ revoked: kid, signing: keys.signer().kid }))
    } else {
      console.error(`keys: no key ${JSON.stringify(kid)}, or it is revoked already`)
      process.exitCode = 1
    }
  } else {
    for (const key of await keys.list()) console.log(JSON.stringify(key))
  }
} catch (err) {
  if (!(err instanceof KeysFromFile)) throw err
  console.error(`keys: ${err.message}`)
  process.exitCode = 1
} finally {
  await app.close()
}
