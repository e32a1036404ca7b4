// The first verification of a fresh token, per algorithm, as the service does it when its cache
// of verified tokens misses: @fastify/jwt's verify with the key and algorithm given at the call
// (src/plugins/app/access-tokens.ts), which builds a fast-jwt verifier each time. In-process, no
// HTTP: what a token costs the first time it is seen, next to HS256's.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'

const KEYS = {
  HS256: () => { const secret = randomBytes(48).toString('base64'); return { sign: secret, verify: secret } },
  ES256: () => pems(generateKeyPairSync('ec', { namedCurve: 'P-256' })),
  EdDSA: () => pems(generateKeyPairSync('ed25519')),
  RS256: () => pems(generateKeyPairSync('rsa', { modulusLength: 2048 }))
}
function pems ({ privateKey, publicKey }) {
  return { sign: privateKey.export({ type: 'pkcs8', format: 'pem' }), verify: publicKey.export({ type: 'spki', format: 'pem' }) }
}

/** Microseconds per first verification, for each algorithm, over `seconds` each. */
export async function firstVerifications (seconds) {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: 'unused-default-secret-of-thirty-two-bytes', verify: { allowedIss: 'authd', allowedAud: 'authd', checkTyp: 'at+jwt' } })
  await app.ready()
  const result = {}
  for (const [alg, make] of Object.entries(KEYS)) {
    const key = make()
    const tokens = Array.from({ length: 2000 }, () => app.jwt.sign({ sub: randomUUID(), jti: randomUUID(), scope: 'profile' },
      { key: key.sign, algorithm: alg, kid: 'k', iss: 'authd', aud: 'authd', header: { alg, typ: 'at+jwt' } }))
    let n = 0
    const end = performance.now() + seconds * 1000
    while (performance.now() < end) {
      app.jwt.verify(tokens[n % tokens.length], { key: key.verify, algorithms: [alg] })
      n++
    }
    result[alg] = (seconds * 1e6) / n
  }
  await app.close()
  return result
}
