// Refresh tokens: 256 random bits, base64url, opaque. The database keeps only their SHA-256.
//
// When a token is rotated, its successor is stored sealed (AES-256-GCM) under a key derived from
// the token itself. A retry of the same token inside the grace window (two tabs refreshing at
// once, a response lost on the way) gets that same successor back instead of a second one, so a
// session never has two live chains; and since the key comes from the presented token, neither
// the database nor the server's secrets alone can read a successor.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

export function newRefreshToken (): string {
  return randomBytes(32).toString('base64url')
}

export function hashRefreshToken (token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

// Domain-separated from the stored hash, which must not be the key.
function sealingKey (token: string): Buffer {
  return createHash('sha256').update('authd refresh-token successor\0').update(token).digest()
}

export function sealSuccessor (token: string, successor: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealingKey(token), iv)
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')
}

/** The successor sealed by sealSuccessor(token, ...), or undefined if it cannot be opened. */
export function openSuccessor (token: string, sealed: string): string | undefined {
  try {
    const bytes = Buffer.from(sealed, 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(token), bytes.subarray(0, 12))
    decipher.setAuthTag(bytes.subarray(12, 28))
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}
