// The errors the service answers with on purpose. Each `code` is the stable `error` a client
// sees; the central error handler (plugins/app/error-handler.ts) turns them into replies.
// (@fastify/error would upper-case the codes, which are part of the API here.)

export class HttpError extends Error {
  constructor (readonly statusCode: number, readonly code: string, message: string) {
    super(message)
  }
}

// These are answers, not faults: no stack trace is worth capturing.
function answer (statusCode: number, code: string, fixedMessage?: string) {
  return class extends HttpError {
    constructor (message = fixedMessage ?? code) {
      const limit = Error.stackTraceLimit
      Error.stackTraceLimit = 0
      super(statusCode, code, message)
      Error.stackTraceLimit = limit
    }
  }
}

export const Unauthorized = answer(401, 'unauthorized', 'Authentication is required')
export const InvalidToken = answer(401, 'invalid_token')
export const CsrfRejected = answer(403, 'csrf_rejected')
export const InvalidCredentials = answer(401, 'invalid_credentials', 'Invalid username or password')
export const NotFound = answer(404, 'not_found')

export const UsernameTaken = answer(409, 'username_taken', 'That username is already taken')
export const EmailTaken = answer(409, 'email_taken', 'An account with that email already exists')
export const InvalidPassword = answer(400, 'invalid_password')
export const WrongPassword = answer(400, 'wrong_password', 'The current password is wrong')

// OAuth 2.0 token endpoint errors (RFC 6749 §5.2).
export const InvalidRequest = answer(400, 'invalid_request')
export const InvalidGrant = answer(400, 'invalid_grant')
export const InvalidScope = answer(400, 'invalid_scope')
export const UnsupportedGrantType = answer(400, 'unsupported_grant_type')
export const UnauthorizedClient = answer(400, 'unauthorized_client')
/** 401 for a client that failed to authenticate; the error handler adds the Basic challenge (RFC 6749 §5.2). */
export const InvalidClient = answer(401, 'invalid_client', 'Client authentication failed')

/** A route for signed-in users, called with a machine client's token. */
export const UserRequired = answer(403, 'user_required', 'This route serves signed-in users, not machine clients')

/** A link from a mail that is unknown, used, expired, or for an address that is no longer the account's. */
export const InvalidMailToken = answer(400, 'invalid_mail_token', 'This link is invalid, used or expired; ask for a new one')
export const EmailNotVerified = answer(403, 'email_not_verified', 'Confirm your email address first; the link is in the mail we sent')
export const MailNotConfigured = answer(503, 'mail_not_configured', 'This service cannot send mail; ask its operator')

// Second factors.
export const InvalidCode = answer(400, 'invalid_code', 'The code is wrong, expired or already used')
export const InvalidMfaToken = answer(400, 'invalid_mfa_token', 'This sign-in expired or was already completed; sign in again')
export const TotpEnabled = answer(409, 'totp_enabled', 'An authenticator app is already set up; turn it off first')
export const TotpNotEnabled = answer(409, 'totp_not_enabled', 'No authenticator app is set up')
/**
 * 401 for a valid token whose session was opened without the second factor that one of the
 * route's scopes needs (RFC 9470): sign in again with it. The error handler adds the challenge.
 */
export const InsufficientUserAuthentication = answer(401, 'insufficient_user_authentication', 'This needs a session opened with a second factor; sign in again with it')
export const PasskeyRefused = answer(400, 'passkey_refused', 'The passkey could not be verified')
export const PasskeyExists = answer(409, 'passkey_exists', 'This passkey is already registered')
export const TotpNotStarted = answer(409, 'totp_not_started', 'Start the setup first (POST /auth/mfa/totp)')

export const Overloaded = answer(503, 'overloaded', 'The service is busy; retry shortly')

export const LastAdmin = answer(409, 'last_admin', 'This would leave no enabled admin')

/** 403 for a valid token without the scope a route needs (RFC 6750 §3.1). */
export class InsufficientScope extends HttpError {
  constructor (readonly scope: string) {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(403, 'insufficient_scope', `This requires the scope ${scope}`)
    Error.stackTraceLimit = limit
  }
}

/** 429, with the seconds to wait (the error handler sends them as Retry-After). */
export class RateLimited extends HttpError {
  constructor (readonly retryAfter: number) {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(429, 'rate_limited', `Too many attempts; retry in ${retryAfter} s`)
    Error.stackTraceLimit = limit
  }
}
