// Data kept sealed at rest (AES-256-GCM) under a key derived from the service secret, one key
// per use (HKDF's info), each sealed value bound to a name (its row's id, as associated data):
// a copy of the database alone opens none of it, and a value moved to another row opens nowhere.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

export function createSealer (secret: string, use: string) {
  const key = Buffer.from(hkdfSync('sha256', secret, 'authd', use, 32))
  return {
    /** `text` sealed for `name`: `iv.ciphertext.tag`, base64url. */
    seal (text: string, name: string): string {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(name))
      const sealed = Buffer.concat([cipher.update(text), cipher.final()])
      return [iv, sealed, cipher.getAuthTag()].map(part => part.toString('base64url')).join('.')
    },

    /** The text sealed for `name`, or undefined when it cannot be opened (another secret, or tampered with). */
    open (sealed: string, name: string): string | undefined {
      try {
        const [iv, data, tag] = sealed.split('.').map(part => Buffer.from(part, 'base64url'))
        const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(name)).setAuthTag(tag)
        return Buffer.concat([decipher.update(data), decipher.final()]).toString()
      } catch {
        return undefined
      }
    }
  }
}
