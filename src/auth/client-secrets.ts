// Machine clients' secrets: 256 random bits, base64url, shown once; the store keeps a SHA-256.
// Not bcrypt: a slow hash makes guessing a low-entropy password expensive, but nobody guesses
// 256 random bits, and a hash that costs a quarter of a second per call would cap every client's
// token requests and introspections at a few per second per core. (bcrypt also reads only the
// first 72 bytes.)
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export function newClientSecret (): string {
  return randomBytes(32).toString('base64url')
}

export function hashClientSecret (secret: string): string {
  return createHash('sha256').update('authd client secret\0').update(secret).digest('base64url')
}

/** Whether `secret` hashes to `hash`; in time independent of where they differ. */
export function secretMatches (secret: string, hash: string | null): boolean {
  if (hash === null) return false
  const presented = Buffer.from(hashClientSecret(secret))
  const kept = Buffer.from(hash)
  return presented.length === kept.length && timingSafeEqual(presented, kept)
}
