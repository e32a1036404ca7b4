// Sessions: one per login, owning a chain of refresh tokens. Opening one (a login), rotating its
// refresh token, ending it (logout, revocation) and reading it, with one set of rules for every
// route, and each change recorded in the audit trail in the transaction that makes it.
import { randomUUID } from 'node:crypto'
import { EmailNotVerified, InvalidCode, InvalidGrant, InvalidMfaToken, InvalidScope, RateLimited } from '../errors.js'
import type { Config } from '../config.js'
import { grantedScopes, narrowScopes, type Scope } from '../roles.js'
import type { AuditEntry, Client, DenyEntry, RotationClaim, Session, SessionSelection, SessionSummary, Store, Transaction, User } from '../store/index.js'
import { createTokenBucket } from './limits.js'
import { hashRefreshToken, newRefreshToken, openSuccessor, sealSuccessor } from './refresh-token.js'
import { decideRotation, type RotationDecision } from './rotation.js'
import type { Accounts, PasswordAttempt } from './accounts.js'
import type { Revocation } from './revocation.js'
import type { SecondFactors } from './second-factors.js'
import type { Challenges } from './challenges.js'
import { loginFailure, uncounted, type LoginResult, type Outcomes } from './outcomes.js'

export interface IssuedTokens {
  user: User
  session: Session
  accessToken: string
  /** Seconds until the access token expires. */
  expiresIn: number
  refreshToken: string
  /** Seconds until the refresh token expires. */
  refreshExpiresIn: number
  scope: string
}

/**
 * The claims of an access token this service issues: `amr`, how the user authenticated (RFC
 * 8176), and `auth_time`, when (seconds), are those of the session.
 */
export interface AccessClaims { sub: string, sid: string, jti: string, scope: string, iat: number, amr: string[], auth_time: number }

/** A password login that waits for its second factor, by the handle the client gives back. */
export interface PendingLogin {
  mfaToken: string
  /** What the second step takes. */
  methods: string[]
  /** Seconds the handle works. */
  expiresIn: number
}

/** How a login went, as RFC 8176 names it: a password, and a one-time code (TOTP or recovery code). */
const AMR_PASSWORD = ['pwd']
const AMR_PASSWORD_AND_CODE = ['pwd', 'otp', 'mfa']

/**
 * A passkey checked (src/auth/passkeys.ts): whose it is, its amr, and what to write in the
 * transaction that opens the session.
 */
export interface PasskeyProof { userId: string, amr: string[], claim (tx: Transaction): Promise<boolean> }

/** Whether a session so opened had a second factor. */
const withSecondFactor = (amr: readonly string[]): boolean => amr.includes('mfa')

/** Why a login with right credentials opened nothing. */
type Refusal = 'refused' | 'invalid_scope' | 'email_not_verified'

// The second step must come soon, and may fail a few times before the login starts over.
const MFA_TOKEN_TTL = 300
const MFA_MAX_FAILURES = 5

/** The signed-in user of an access token, as far as ending things goes. */
export interface TokenHolder { id: string, sessionId: string, tokenId: string, expiresAt: number }

export interface SessionsOptions {
  store: Store
  accounts: Accounts
  revocation: Revocation
  secondFactors: Pick<SecondFactors, 'required' | 'check'>
  challenges: Challenges
  /** Signs an access token; `expiresIn` (seconds) when shorter than the configured TTL. */
  sign (claims: AccessClaims, options?: { expiresIn: number }): string
  /** The claims of an access token this service signed and that has not expired, or throws. */
  verify (token: string): AccessClaims & { exp: number }
  config: Pick<Config, 'ACCESS_TOKEN_TTL' | 'REFRESH_TOKEN_TTL' | 'SESSION_TTL' | 'REFRESH_REUSE_GRACE' | 'RATE_LIMIT_REFRESH' | 'REQUIRE_EMAIL_VERIFICATION' | 'mfaRequiredScopes'>
  log: { warn (details: object, message: string): void }
  /** Told how each login step and each refresh ended. */
  outcomes?: Outcomes
  now?: () => number
}

export function createSessions ({ store, accounts, revocation, secondFactors, challenges, sign, verify, config, log, outcomes = uncounted, now = () => Date.now() }: SessionsOptions) {
  const ttl = config.ACCESS_TOKEN_TTL
  const needSecondFactor = new Set<Scope>(config.mfaRequiredScopes)
  // Each rotation leaves a row, kept as long as reuse detection needs it (the token's own life):
  // one signed-in client must not grow the database without bound.
  const rotations = createTokenBucket({ limit: config.RATE_LIMIT_REFRESH, windowMs: 60_000 })

  function refreshExpiry (session: Session, at: number): number {
    return Math.min(at + config.REFRESH_TOKEN_TTL * 1000, session.expiresAt.getTime())
  }

  function issue (user: User, session: Session, scopes: Scope[], refreshToken: string): IssuedTokens {
    const scope = scopes.join(' ')
    const at = now()
    // After a role was removed, tokens of this session issued before that instant are refused
    // (sid_before); one issued in that same second must not look older than it is.
    const iat = Math.max(Math.floor(at / 1000), revocation.issuableFrom(session.id))
    const claims = { sub: user.id, sid: session.id, jti: randomUUID(), scope, iat, amr: session.amr.split(' '), auth_time: Math.floor(session.createdAt.getTime() / 1000) }
    // No access token outlives its session.
    const left = Math.floor(session.expiresAt.getTime() / 1000) - iat
    const accessToken = left < ttl ? sign(claims, { expiresIn: left }) : sign(claims)
    const refreshExpiresIn = Math.floor((refreshExpiry(session, at) - at) / 1000)
    return { user, session, accessToken, expiresIn: Math.min(left, ttl), refreshToken, refreshExpiresIn, scope }
  }

  // A session for `user`, who authenticated by `amr`: the scopes asked for among those the roles
  // grant, less those that need a second factor when there was none. Audited with it.
  async function start (tx: Transaction, user: User, amr: string[], requested: string[] | undefined, client: Client, via: string): Promise<IssuedTokens | 'invalid_scope'> {
    const granted = grantedScopes(user.roles)
    const scopes = narrowScopes(withSecondFactor(amr) ? granted : granted.filter(s => !needSecondFactor.has(s)), requested)
    if (scopes === undefined || scopes.length === 0) return 'invalid_scope'
    const at = now()
    const refreshToken = newRefreshToken()
    const session = await tx.sessions.open({
      userId: user.id,
      scope: scopes.join(' '),
      amr: amr.join(' '),
      openedAt: new Date(at),
      client,
      expiresAt: new Date(at + config.SESSION_TTL * 1000),
      refreshToken: { hash: hashRefreshToken(refreshToken), expiresAt: new Date(at + Math.min(config.REFRESH_TOKEN_TTL, config.SESSION_TTL) * 1000) }
    })
    const issued = issue(user, session, scopes, refreshToken)
    await tx.audit.record({ type: 'login_succeeded', userId: user.id, sessionId: session.id, ...client, detail: { via, scope: issued.scope, amr } })
    return issued
  }

  // After a right password, in one transaction with a fresh read of the user: a disable, a role
  // change or a password change that commits meanwhile is either seen here or sees (and ends)
  // this session. The password was checked against the version read before bcrypt ran: if it
  // changed since, that check no longer counts. A user with a second factor gets a pending
  // login instead of a session.
  async function open (userId: string, password: { version: number, rehash: string | undefined }, requested: string[] | undefined, client: Client, via: string) {
    return await store.transaction(async (tx): Promise<IssuedTokens | PendingLogin | Refusal> => {
      const user = await tx.users.get(userId)
      if (user === null || user.disabled || user.passwordVersion !== password.version) return 'refused'
      if (config.REQUIRE_EMAIL_VERIFICATION && !user.emailVerified) return 'email_not_verified'
      if (password.rehash !== undefined) await tx.users.setPasswordHash(user.id, password.rehash)
      if (!await secondFactors.required(tx, user.id)) return await start(tx, user, AMR_PASSWORD, requested, client, via)
      // What no second factor would make grantable is refused now, not after it.
      if ((narrowScopes(grantedScopes(user.roles), requested)?.length ?? 0) === 0) return 'invalid_scope'
      const mfaToken = await challenges.open(tx, 'login', user.id, { passwordVersion: user.passwordVersion, requested: requested ?? null }, MFA_TOKEN_TTL)
      await tx.audit.record({ type: 'login_mfa_required', userId, ...client, detail: { via } })
      const methods = ['totp', 'recovery_code', ...(await tx.secondFactors.passkeys.count(user.id) > 0 ? ['passkey'] : [])]
      return { mfaToken, methods, expiresIn: MFA_TOKEN_TTL }
    })
  }

  // A login that opened nothing: audited (`reason` unless it was only refused), then answered
  // with invalid_scope or email_not_verified; a plain refusal is the caller's to answer.
  async function refuse (userId: string | null, client: Client, detail: Record<string, unknown>, outcome: Refusal): Promise<void> {
    await store.audit.record({ type: 'login_failed', userId, ...client, detail: { ...detail, ...(outcome !== 'refused' && { reason: outcome }) } })
    if (outcome === 'invalid_scope') throw new InvalidScope('None of the requested scopes can be granted')
    if (outcome === 'email_not_verified') throw new EmailNotVerified()
  }

  // A login step, with how it ended told to `outcomes`: by `result` when it answers, by its
  // error when that is one a login answers with.
  async function counted<T> (step: Promise<T>, result: (value: T) => LoginResult): Promise<T> {
    try {
      const value = await step
      outcomes.login(result(value))
      return value
    } catch (err) {
      const failure = loginFailure(err)
      if (failure !== undefined) outcomes.login(failure)
      throw err
    }
  }

  async function passwordStep (login: string, password: string, requested: string[] | undefined, client: Client & { via: 'api' | 'browser' }, attempt: PasswordAttempt): Promise<IssuedTokens | PendingLogin | null> {
    const { via, ...where } = client
    const checked = await accounts.checkCredentials(login, password, attempt)
    const issued = checked.userId === null
      ? 'refused'
      : await open(checked.userId, { version: checked.passwordVersion, rehash: checked.rehash }, requested, where, via)
    if (typeof issued !== 'string') return issued
    await refuse(checked.accountId, where, { via }, issued)
    return null
  }

  async function secondStep (mfaToken: string, proof: string | (() => Promise<PasskeyProof>), client: Client & { via: 'api' | 'browser' }, attempt: PasswordAttempt): Promise<IssuedTokens> {
    const { via, ...where } = client
    // A code, or a passkey's proof (checked first: a forged one goes no further).
    const [code, passkey] = typeof proof === 'string' ? [proof, undefined] : [undefined, await proof()]
    const pending = await challenges.find(mfaToken, 'login')
    if (pending === null || pending.userId === null) throw new InvalidMfaToken()
    const userId = pending.userId
    const { passwordVersion, requested } = pending.data as { passwordVersion: number, requested: string[] | null }
    const slot = await attempt.take(userId, '')
    let wrong = false
    let opened: IssuedTokens | 'refused' | 'invalid_scope' | 'wrong'
    try {
      opened = await store.transaction(async tx => {
        const kind = code !== undefined
          ? await secondFactors.check(tx, userId, code)
          : passkey.userId === userId && await passkey.claim(tx) ? 'passkey' : undefined
        if (kind === undefined) return 'wrong'
        // Used meanwhile by a request with another right code: that one's code use is undone.
        if (!await challenges.use(tx, mfaToken, 'login')) throw new InvalidMfaToken()
        const user = await tx.users.get(userId)
        if (user === null || user.disabled || user.passwordVersion !== passwordVersion) return 'refused'
        if (kind === 'recovery_code') await tx.audit.record({ type: 'mfa_recovery_code_used', userId, ...where, detail: { via } })
        const amr = passkey === undefined ? AMR_PASSWORD_AND_CODE : ['pwd', ...passkey.amr]
        return await start(tx, user, amr, requested ?? undefined, where, via)
      })
      wrong = opened === 'wrong'
    } finally {
      if (!wrong) await slot.release()
    }
    if (typeof opened !== 'string') return opened
    if (opened === 'wrong') {
      await challenges.fail(mfaToken, MFA_MAX_FAILURES)
      await store.audit.record({ type: 'mfa_failed', userId, ...where, detail: { via } })
      throw new InvalidCode()
    }
    // (A plain refusal here is a user who changed since the password: the handle is void.)
    await refuse(userId, where, { via, reason: opened }, opened)
    throw new InvalidMfaToken()
  }

  async function passkeyStep (verify: () => Promise<PasskeyProof>, client: Client & { via: 'api' | 'browser' }): Promise<IssuedTokens | null> {
    const { via, ...where } = client
    const { userId, amr, claim } = await verify()
    const opened = await store.transaction(async (tx): Promise<IssuedTokens | Refusal> => {
      if (!await claim(tx)) return 'refused'
      const user = await tx.users.get(userId)
      if (user === null || user.disabled) return 'refused'
      if (config.REQUIRE_EMAIL_VERIFICATION && !user.emailVerified) return 'email_not_verified'
      return await start(tx, user, amr, undefined, where, via)
    })
    if (typeof opened !== 'string') return opened
    await refuse(userId, where, { via, amr }, opened)
    return null
  }

  // Ends sessions, denies `extra` too, and records the event for the number that ended (none
  // when it says undefined), in one change. Returns how many sessions ended.
  function end (selection: SessionSelection, event: (ended: number) => AuditEntry | undefined, extra: DenyEntry[] = []) {
    return revocation.change(async tx => {
      const ended = await revocation.endSessions(tx, selection)
      if (extra.length > 0) await tx.denylist.add(extra)
      const entry = event(ended.length)
      if (entry !== undefined) await tx.audit.record(entry)
      return { result: ended.length, denied: [...ended, ...extra] }
    })
  }

  async function revokeAccessToken (token: string, client: Client) {
    let claims: AccessClaims & { exp: number }
    try {
      claims = verify(token)
    } catch {
      // Only a token that verifies is ours to deny; an expired one is already dead.
      return false
    }
    const denied = [revocation.accessToken({ jti: claims.jti, exp: claims.exp })]
    await revocation.change(async tx => {
      await tx.denylist.add(denied)
      await tx.audit.record({ type: 'token_revoked', userId: claims.sub, sessionId: claims.sid, ...client, detail: { via: 'revoke' } })
      return { result: undefined, denied }
    })
    return true
  }

  // A refresh token's revocation ends its session: an API client's logout.
  async function revokeRefreshToken (token: string, client: Client) {
    const session = await store.sessions.byRefreshToken(hashRefreshToken(token))
    if (session === null) return false
    await end({ id: session.id }, () => ({ type: 'logout', userId: session.userId, sessionId: session.id, ...client, detail: { via: 'revoke' } }))
    return true
  }

  return {
    /**
     * Checks a username (or email) and password, then opens a session with the scopes asked for
     * among those the user's roles grant (less MFA_REQUIRED_SCOPES), or, for a user with a
     * second factor, a pending login. Null when the credentials are wrong, whichever part;
     * throws invalid_scope when nothing asked for can be granted, and email_not_verified (with
     * REQUIRE_EMAIL_VERIFICATION, and only after a right password) for an unconfirmed address.
     * All are audited.
     */
    login: (login: string, password: string, requested: string[] | undefined, client: Client & { via: 'api' | 'browser' }, attempt: PasswordAttempt): Promise<IssuedTokens | PendingLogin | null> =>
      counted(passwordStep(login, password, requested, client, attempt), issued => issued === null ? 'invalid_credentials' : 'mfaToken' in issued ? 'mfa_required' : 'success'),

    /**
     * The second step of a pending login: a TOTP code or a recovery code, used up if right, or
     * a passkey of the same user (`proof` checks it, first). A wrong one takes a slot of the
     * account's password limit and counts against the handle, which the fifth uses up. Throws
     * invalid_mfa_token (unknown, used, expired, or the user changed meanwhile), invalid_code,
     * passkey_refused, rate_limited.
     */
    secondFactor: (mfaToken: string, proof: string | (() => Promise<PasskeyProof>), client: Client & { via: 'api' | 'browser' }, attempt: PasswordAttempt): Promise<IssuedTokens> =>
      counted(secondStep(mfaToken, proof, client, attempt), () => 'success'),

    /**
     * Opens a session for a user who proves who they are without a password (a passkey): `verify`
     * checks the proof, whose `claim` runs first in the transaction that opens the session (the
     * challenge used, the counter moved on); nothing opens unless it returns true. Null when the
     * claim failed or the user cannot sign in (disabled, gone); throws passkey_refused when the
     * proof is not one, and email_not_verified as a login does.
     */
    openVerified: (verify: () => Promise<PasskeyProof>, client: Client & { via: 'api' | 'browser' }): Promise<IssuedTokens | null> =>
      counted(passkeyStep(verify, client), issued => issued === null ? 'passkey_refused' : 'success'),

    /** The id of the live session a refresh token belongs to, without using the token. */
    async sessionOf (refreshToken: string): Promise<string | null> {
      const session = await store.sessions.byRefreshToken(hashRefreshToken(refreshToken))
      return session === null || session.revokedAt !== null || session.expiresAt.getTime() <= now() ? null : session.id
    },

    /** Rotates a refresh token. Throws invalid_grant (and ends the session on a reuse), invalid_scope or rate_limited. */
    async refresh (presented: string, requested: string[] | undefined, client: Client): Promise<IssuedTokens> {
      type Outcome = RotationDecision | { outcome: 'rate_limited', retryAfter: number } | { outcome: 'issued', grace: boolean, user: User, session: Session, scopes: Scope[], refreshToken: string }
      const rotation = await store.refreshTokens.rotate(hashRefreshToken(presented), (facts): { result: Outcome, claim?: RotationClaim } => {
        const at = now()
        const decision = decideRotation(facts, { now: at, requested, graceMs: config.REFRESH_REUSE_GRACE * 1000 })
        if (facts === undefined) return { result: decision }
        const { user, session } = facts
        if (decision.outcome === 'retry') {
          const successor = openSuccessor(presented, decision.sealedSuccessor)
          return successor === undefined
            ? { result: { outcome: 'reused', userId: user.id, sessionId: session.id } }
            : { result: { outcome: 'issued', grace: true, user, session, scopes: decision.scopes, refreshToken: successor } }
        }
        if (decision.outcome !== 'rotate') return { result: decision }
        const slot = rotations.take(session.id, at)
        if (!slot.ok) return { result: { outcome: 'rate_limited', retryAfter: slot.retryAfter } }
        const successor = newRefreshToken()
        return {
          result: { outcome: 'issued', grace: false, user, session: { ...session, lastUsedAt: new Date(at) }, scopes: decision.scopes, refreshToken: successor },
          claim: { at, sealedSuccessor: sealSuccessor(presented, successor), successorHash: hashRefreshToken(successor), successorExpiresAt: refreshExpiry(session, at) }
        }
      })

      switch (rotation.outcome) {
        case 'issued':
          outcomes.refresh(rotation.grace ? 'grace' : 'rotated')
          return issue(rotation.user, rotation.session, rotation.scopes, rotation.refreshToken)
        case 'reused':
          outcomes.refresh('reuse_detected')
          // End the whole session (anything its chain did meanwhile ends with it) and record why,
          // in one transaction. Should it fail (the database busy past its timeout), the reply is
          // a 503 and nothing has changed, as when the rotation itself cannot begin: the token is
          // still a used one, and its next replay ends the session.
          await end({ id: rotation.sessionId }, () => ({ type: 'refresh_reuse_detected', userId: rotation.userId, sessionId: rotation.sessionId, ...client }))
          log.warn({ userId: rotation.userId, sessionId: rotation.sessionId }, 'refresh token reuse detected: session revoked')
          throw new InvalidGrant('The refresh token is invalid')
        case 'invalid_scope':
          outcomes.refresh('invalid_scope')
          throw new InvalidScope('None of the requested scopes can be granted')
        case 'rate_limited':
          outcomes.refresh('rate_limited')
          throw new RateLimited(rotation.retryAfter)
        default:
          outcomes.refresh('invalid')
          throw new InvalidGrant('The refresh token is invalid')
      }
    },

    /** The user and the session of a signed-in request, or null unless both are still good. */
    async signedIn (userId: string, sessionId: string): Promise<{ user: User, session: Session } | null> {
      const { user, session } = await store.sessions.userAndSession(userId, sessionId)
      // The denylist already refuses revoked sessions' tokens; the database has the last word.
      if (user === null || user.disabled || session === null || session.userId !== userId ||
        session.revokedAt !== null || session.expiresAt.getTime() <= now()) return null
      return { user, session }
    },

    /** The user's sessions that are neither revoked nor expired, most recently used first. */
    list: (userId: string): Promise<SessionSummary[]> => store.sessions.live(userId, now()),

    /** Ends one of the user's live sessions; false if there is no such live session. */
    end: async (holder: TokenHolder, sessionId: string, client: Client): Promise<boolean> =>
      await end({ id: sessionId, userId: holder.id, unexpiredAt: new Date(now()) },
        ended => ended === 0 ? undefined : { type: 'session_ended', userId: holder.id, sessionId, ...client }) === 1,

    /** Logout: ends the holder's session and denies the access token that asked for it. */
    async logout (holder: TokenHolder, client: Client): Promise<void> {
      await end({ id: holder.sessionId, userId: holder.id }, () => ({ type: 'logout', userId: holder.id, sessionId: holder.sessionId, ...client }),
        [revocation.accessToken({ jti: holder.tokenId, exp: holder.expiresAt })])
    },

    /** Ends every live session of the holder, theirs included; returns how many ended. */
    logoutAll: (holder: TokenHolder, client: Client): Promise<number> =>
      end({ userId: holder.id }, ended => ({ type: 'logout_all', userId: holder.id, sessionId: holder.sessionId, ...client, detail: { sessionsEnded: ended } })),

    /**
     * RFC 7009: revokes an access token (until it expires) or a refresh token (its whole
     * session). The hint says only which kind to try first (§2.1). False when it was neither.
     */
    async revoke (token: string, hint: string | undefined, client: Client): Promise<boolean> {
      const accessFirst = hint === 'access_token' || (hint !== 'refresh_token' && token.split('.').length === 3)
      const attempts = accessFirst ? [revokeAccessToken, revokeRefreshToken] : [revokeRefreshToken, revokeAccessToken]
      for (const attempt of attempts) if (await attempt(token, client)) return true
      return false
    }
  }
}

export type Sessions = ReturnType<typeof createSessions>
