// What became of each login and each refresh, told to whoever counts them (the operator's
// metrics, src/plugins/app/metrics.ts). By names from these lists only: never who, never what
// was sent.
import { HttpError } from '../errors.js'

/** How a login ended: a session opened (success), a second step asked for, or why it did not. */
export const LOGIN_RESULTS = [
  'success', 'invalid_credentials', 'rate_limited', 'overloaded', 'mfa_required', 'mfa_failed',
  'invalid_mfa_token', 'passkey_refused', 'invalid_scope', 'email_not_verified'
] as const
export type LoginResult = typeof LOGIN_RESULTS[number]

/**
 * How a refresh token's presentation ended: rotated (its first use), grace (a retry inside
 * REFRESH_REUSE_GRACE, answered with the same successor), reuse_detected (its session ended),
 * or refused.
 */
export const REFRESH_RESULTS = ['rotated', 'grace', 'reuse_detected', 'invalid', 'invalid_scope', 'rate_limited'] as const
export type RefreshResult = typeof REFRESH_RESULTS[number]

export interface Outcomes {
  login (result: LoginResult): void
  refresh (result: RefreshResult): void
}

export const uncounted: Outcomes = { login () {}, refresh () {} }

// The errors a login step answers with, by the result they count as. Any other (the database
// down) is a fault, not a login's outcome.
const LOGIN_FAILURES: Record<string, LoginResult> = {
  invalid_credentials: 'invalid_credentials',
  rate_limited: 'rate_limited',
  overloaded: 'overloaded',
  invalid_code: 'mfa_failed',
  invalid_mfa_token: 'invalid_mfa_token',
  passkey_refused: 'passkey_refused',
  invalid_scope: 'invalid_scope',
  email_not_verified: 'email_not_verified'
}

/** The result a login step's error counts as, if it is one a login answers with. */
export function loginFailure (err: unknown): LoginResult | undefined {
  return err instanceof HttpError ? LOGIN_FAILURES[err.code] : undefined
}
