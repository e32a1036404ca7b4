// What the store reads and writes, in the domain's terms. Every engine's implementation speaks
// these; none of Prisma's types, nor the shapes a driver returns, goes past the store.

/** An account with the roles it holds, sorted. */
export interface User {
  id: string
  username: string
  email: string
  passwordHash: string
  /** Raised by every password change: a session is opened only while it is unchanged. */
  passwordVersion: number
  /** The owner followed a link mailed to `email`. */
  emailVerified: boolean
  disabled: boolean
  createdAt: Date
  updatedAt: Date
  roles: string[]
}

/** One login, owning a chain of refresh tokens. */
export interface Session {
  id: string
  userId: string
  /** The scopes granted at login, space-separated; a refresh may narrow them, never widen. */
  scope: string
  userAgent: string | null
  ip: string | null
  createdAt: Date
  lastUsedAt: Date
  /** The absolute end: no refresh extends a session past it. */
  expiresAt: Date
  revokedAt: Date | null
  /** How the user authenticated when it opened: RFC 8176 values, space-separated. */
  amr: string
}

/**
 * A session as a listing shows it. Lists are read models: their times are ISO 8601 text in UTC,
 * which is what a listing displays and serializes, without a Date made and formatted per field.
 */
export interface SessionSummary {
  id: string
  createdAt: string
  lastUsedAt: string
  expiresAt: string
  userAgent: string | null
  ip: string | null
}

/** A user as a listing shows it: no password hash; times as in SessionSummary. */
export interface UserSummary {
  id: string
  username: string
  email: string
  emailVerified: boolean
  roles: string[]
  disabled: boolean
  createdAt: string
  updatedAt: string
}

/** Where a request came from, as sessions and the audit trail keep it. */
export interface Client {
  ip: string | null
  userAgent: string | null
}

/** A refresh token as the rotation reads it. */
export interface RefreshTokenRecord {
  id: string
  sessionId: string
  expiresAt: Date
  usedAt: Date | null
  /** The successor issued when it was used, sealed under the token itself. */
  successor: string | null
}

/**
 * A denylist entry: an access token id (jti), a session (sid), the tokens of a session issued
 * before a time (sid_before: after its user lost a role), or the tokens a revoked signing key
 * signed (kid), or the tokens of a machine client issued before a time (client_before: it was
 * disabled, deleted or lost a scope). Kept until the tokens it covers expired. Times in milliseconds since the epoch,
 * as the in-memory denylist compares them.
 */
export type DenyEntry =
  | { kind: 'jti' | 'sid' | 'kid', value: string, expiresAt: number }
  | { kind: 'sid_before' | 'client_before', value: string, expiresAt: number, issuedBefore: number }

export interface AuditEntry {
  type: string
  userId?: string | null
  actorId?: string | null
  sessionId?: string | null
  ip?: string | null
  userAgent?: string | null
  detail?: Record<string, unknown>
}

export interface AuditRecord {
  seq: number
  at: Date
  type: string
  userId: string | null
  actorId: string | null
  sessionId: string | null
  ip: string | null
  userAgent: string | null
  detail: Record<string, unknown> | null
}

/** What a rotation finds for a refresh token: the token, its session and the session's user. */
export interface RotationFacts { token: RefreshTokenRecord, session: Session, user: User }

/** The writes of a first use: the token used at `at`, its successor stored. */
export interface RotationClaim { at: number, sealedSuccessor: string, successorHash: string, successorExpiresAt: number }

/** A key that signs access tokens (src/auth/key-schedule.ts says when). */
export interface SigningKeyRecord {
  kid: string
  alg: 'ES256' | 'EdDSA' | 'RS256' | 'HS256'
  /** The public JWK as published; null for HS256, a secret. */
  publicJwk: Record<string, unknown> | null
  /** The private JWK, sealed under a key derived from the service secret; null for HS256. */
  sealed: string | null
  createdAt: Date
  activatesAt: Date
  revokedAt: Date | null
}

/** How a machine client proves who it is at the token endpoint (RFC 7591 names). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

/** A machine client (OAuth 2.0 client credentials). Secrets are kept as SHA-256 hashes only. */
export interface OAuthClientRecord {
  id: string
  name: string
  /** The scopes it may be granted. */
  scopes: string[]
  authMethod: ClientAuthMethod
  secretHash: string | null
  /** The secret a rotation replaced, valid until previousSecretExpiresAt. */
  previousSecretHash: string | null
  previousSecretExpiresAt: Date | null
  /** The public JWK set of a private_key_jwt client. */
  jwks: { keys: Array<Record<string, unknown>> } | null
  disabled: boolean
  createdAt: Date
  updatedAt: Date
  lastUsedAt: Date | null
}

/** What a mailed link is for. */
export type MailTokenPurpose = 'password_reset' | 'verify_email' | 'change_email'

/** A mailed token, as its use finds it: whose, what for, and the address it was sent to. */
export interface MailTokenRecord {
  userId: string
  purpose: MailTokenPurpose
  email: string
  expiresAt: Date
}

/** A message of the outbox, taken by a sender until `lockedUntil`. */
export interface OutboxMessage {
  id: string
  kind: string
  sealed: string
  expiresAt: Date
  /** Tries so far, this one included. */
  attempts: number
}

/** A TOTP authenticator: its sealed secret, whether it is on, and the step of the last code used. */
export interface TotpRecord {
  sealed: string
  /** Null while the enrolment waits for its first code. */
  confirmedAt: Date | null
  lastStep: number
}

/** A WebAuthn credential, as @simplewebauthn/server needs it to check an assertion. */
export interface PasskeyRecord {
  /** The credential id, base64url. */
  id: string
  userId: string
  name: string
  /** The COSE public key, base64url. */
  publicKey: string
  counter: number
  transports: string[]
  deviceType: 'singleDevice' | 'multiDevice' | string
  backedUp: boolean
  createdAt: Date
  lastUsedAt: Date | null
}

/** What a two-step exchange waits for: a login's second factor, a passkey registration or sign-in. */
export type ChallengeKind = 'login' | 'passkey_register' | 'passkey_login'

/** A live challenge, as its second step reads it: whose, and what the first step left for it. */
export interface ChallengeRecord {
  userId: string | null
  data: Record<string, unknown>
}
