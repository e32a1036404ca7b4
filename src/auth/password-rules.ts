// What a password must be: one place for the rules, which the schemas describe and the
// domain enforces, so that every refusal carries the same `invalid_password` code.

/** bcrypt reads at most 72 bytes; bcryptjs silently ignores the rest. */
export const MAX_PASSWORD_BYTES = 72
export const MIN_PASSWORD_LENGTH = 8

// zxcvbn's list, most common first (lower-cased): the first 10,000 are refused. Loaded when first
// needed: the package decompresses its lists as it loads, which would be a noticeable part of
// every start, for a check that only a new password needs.
let commonPasswords: Promise<Set<string>> | undefined
const loadCommonPasswords = async () => {
  const { dictionary } = await import('@zxcvbn-ts/language-common')
  return new Set(dictionary['passwords-common'].slice(0, 10_000))
}

/** Why a new password is refused, or undefined if it is acceptable. */
export async function passwordProblem (password: string): Promise<string | undefined> {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`
  const bytes = Buffer.byteLength(password)
  if (bytes > MAX_PASSWORD_BYTES) {
    return `password must be at most ${MAX_PASSWORD_BYTES} bytes of UTF-8 (bcrypt's limit); this one is ${bytes}`
  }
  commonPasswords ??= loadCommonPasswords()
  if ((await commonPasswords).has(password.toLowerCase())) return 'password is one of the 10,000 most common; choose another'
  return undefined
}
