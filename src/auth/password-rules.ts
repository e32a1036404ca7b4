// What a password must be: one place for the rules, which the schemas describe and the
// domain enforces, so that every refusal carries the same `invalid_password` code.
import { dictionary } from '@zxcvbn-ts/language-common'

/** bcrypt reads at most 72 bytes; bcryptjs silently ignores the rest. */
export const MAX_PASSWORD_BYTES = 72
export const MIN_PASSWORD_LENGTH = 8

// zxcvbn's list, most common first (lower-cased): the first 10,000 are refused.
const COMMON_PASSWORDS = new Set(dictionary['passwords-common'].slice(0, 10_000))

/** Why a new password is refused, or undefined if it is acceptable. */
export function passwordProblem (password: string): string | undefined {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`
  const bytes = Buffer.byteLength(password)
  if (bytes > MAX_PASSWORD_BYTES) {
    return `password must be at most ${MAX_PASSWORD_BYTES} bytes of UTF-8 (bcrypt's limit); this one is ${bytes}`
  }
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'password is one of the 10,000 most common; choose another'
  return undefined
}
