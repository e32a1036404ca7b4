// Signing keys as material: generated here, named by their RFC 7638 thumbprint, published as
// public JWKs only, and kept sealed (AES-256-GCM) under a key derived from the service secret, so
// that a copy of the database alone signs nothing.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import { createSealer } from './sealed.js'
import type { KeyAlgorithm } from './key-schedule.js'

export type AsymmetricAlgorithm = Exclude<KeyAlgorithm, 'HS256'>

/** A public JWK as the JWKS publishes it. */
export interface PublicJwk extends JsonWebKey { kid: string, alg: AsymmetricAlgorithm, use: 'sig' }

function generatePair (alg: AsymmetricAlgorithm): KeyObject {
  switch (alg) {
    case 'ES256': return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    case 'EdDSA': return generateKeyPairSync('ed25519').privateKey
    case 'RS256': return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  }
}

/** The algorithm a private or public JWK is for, from its key type and curve; undefined if none of ours. */
export function algorithmOf (jwk: JsonWebKey): AsymmetricAlgorithm | undefined {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256'
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA'
  if (jwk.kty === 'RSA') return 'RS256'
  return undefined
}

/** The public half: only the public members, whatever the private JWK carries besides. */
export async function publicJwkOf (privateJwk: JsonWebKey, alg: AsymmetricAlgorithm, kid?: string): Promise<PublicJwk> {
  const { kty, crv, x, y, n, e } = createPublicKey({ key: privateJwk, format: 'jwk' }).export({ format: 'jwk' })
  const members = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, value]) => value !== undefined)) as JsonWebKey
  return { ...members, kid: kid ?? await calculateJwkThumbprint(members as Parameters<typeof calculateJwkThumbprint>[0], 'sha256'), alg, use: 'sig' }
}

/** A new key pair: its private JWK and the public one, named by its thumbprint. */
export async function generateKey (alg: AsymmetricAlgorithm): Promise<{ privateJwk: JsonWebKey, publicJwk: PublicJwk }> {
  const privateJwk = generatePair(alg).export({ format: 'jwk' })
  return { privateJwk, publicJwk: await publicJwkOf(privateJwk, alg) }
}

/** PEM text of a private JWK, as fast-jwt takes keys. */
export const privatePem = (jwk: JsonWebKey): string => createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }) as string
/** PEM text of a public JWK. */
export const publicPem = (jwk: JsonWebKey): string => createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string

/** The HS256 key's id: a digest of the secret that says nothing of it, stable while it is. */
export const secretKid = (secret: string): string => 'hs256-' + createHash('sha256').update('authd hs256 kid\0').update(secret).digest('base64url').slice(0, 16)

// The same derivation and format as before this used ./sealed.ts: keys sealed then still open.
const sealer = (secret: string) => createSealer(secret, 'signing keys at rest, aes-256-gcm')

/** A private JWK sealed under the secret, bound to its kid: `iv.ciphertext.tag`, base64url. */
export const seal = (privateJwk: JsonWebKey, kid: string, secret: string): string => sealer(secret).seal(JSON.stringify(privateJwk), kid)

/** The private JWK sealed for `kid`, or undefined when it cannot be opened (another secret, or tampered with). */
export function open (sealed: string, kid: string, secret: string): JsonWebKey | undefined {
  const text = sealer(secret).open(sealed, kid)
  return text === undefined ? undefined : JSON.parse(text) as JsonWebKey
}
