// TOTP (RFC 6238) as the authenticator apps make it: HMAC-SHA1, 6 digits, 30-second steps. Plain
// functions of a secret and a time; which steps were used is the store's to remember.
import { Secret, TOTP } from 'otpauth'

const PERIOD = 30
const DIGITS = 6
// One step either side: a phone whose clock is up to 30 s off, or a code typed as it changed.
const DRIFT_STEPS = 1

/** A new secret: 160 random bits (RFC 4226's recommendation), base32 as apps take it. */
export const newTotpSecret = (): string => new Secret({ size: 20 }).base32

/** The otpauth:// URI an app reads from a QR code. */
export function totpUri (secret: string, issuer: string, account: string): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: DIGITS, period: PERIOD }).toString()
}

/** The time step (counter) at `now`, in milliseconds. */
export const totpStep = (now: number): number => TOTP.counter({ period: PERIOD, timestamp: now })

/** Whether `code` has the form of a TOTP code (rather than a recovery code). */
export const isTotpCode = (code: string): boolean => /^\d{6}$/.test(code)

/** The step whose code `code` is, within one step of `now`'s; undefined if none. */
export function matchTotp (secret: string, code: string, now: number): number | undefined {
  if (!isTotpCode(code)) return undefined
  const delta = TOTP.validate({ token: code, secret: Secret.fromBase32(secret), digits: DIGITS, period: PERIOD, timestamp: now, window: DRIFT_STEPS })
  return delta === null ? undefined : totpStep(now) + delta
}
