// Recovery codes: ten single-use codes, shown once when TOTP is turned on, that stand in for the
// authenticator app when it is lost. 60 random bits each, in an alphabet without look-alikes,
// grouped for reading; typed back in any case, with or without the dashes.
import { createHash, randomInt } from 'node:crypto'

export const RECOVERY_CODE_COUNT = 10
// Crockford's base32: no i, l, o or u to misread.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const LENGTH = 12

export function newRecoveryCode (): string {
  let code = ''
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)]
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`
}

/** The hash a code is kept as: of its normalised form, so that "ABCD EFGH JKMN" finds it. */
export const hashRecoveryCode = (code: string): string =>
  createHash('sha256').update(code.toLowerCase().replace(/[\s-]/g, '')).digest('base64url')
