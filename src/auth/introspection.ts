// Token introspection (RFC 7662): whether a token is live now, and what it carries, for a
// resource server that cannot wait for an access token to expire (a logout a second ago). The
// answer for anything not live (expired, revoked, unknown, malformed, signed by a revoked key,
// of a disabled user or client) is `{ active: false }` and nothing else (§2.2).
import type { Store } from '../store/index.js'
import { hashRefreshToken } from './refresh-token.js'

export interface Introspected {
  active: boolean
  scope?: string
  client_id?: string
  username?: string
  token_type?: 'Bearer' | 'refresh_token'
  exp?: number
  iat?: number
  sub?: string
  aud?: string
  iss?: string
  jti?: string
  sid?: string
  /** How the user authenticated (RFC 8176) and when (seconds): a user's tokens only. */
  amr?: string[]
  auth_time?: number
}

/** What a verified access token says (plugins/app/authenticate.ts verifies it). */
export type TokenFacts = { tokenId: string, scopes: readonly string[], expiresAt: number, issuedAt: number } &
  ({ kind: 'user', id: string, sessionId: string } | { kind: 'client', id: string })

export interface IntrospectionOptions {
  store: Store
  /** The caller of a live access token: verified, checked against the denylist; throws otherwise. */
  verifyAccessToken (token: string): TokenFacts
  /** Whether a client exists and is enabled. */
  liveClient (id: string): Promise<boolean>
  /** The user and session of a user's token, or null unless both are still good (sessions.signedIn). */
  signedIn (userId: string, sessionId: string): Promise<{ user: { username: string }, session: { amr: string, createdAt: Date } } | null>
  issuer: string
  audience: string
  now?: () => number
}

const INACTIVE: Introspected = Object.freeze({ active: false })
const seconds = (date: Date) => Math.floor(date.getTime() / 1000)

export function createIntrospection ({ store, verifyAccessToken, liveClient, signedIn, issuer, audience, now = () => Date.now() }: IntrospectionOptions) {
  async function accessToken (token: string): Promise<Introspected> {
    let caller
    try {
      caller = verifyAccessToken(token)
    } catch {
      return INACTIVE
    }
    const common = { active: true, scope: caller.scopes.join(' '), token_type: 'Bearer' as const, exp: caller.expiresAt, iat: caller.issuedAt, sub: caller.id, aud: audience, iss: issuer, jti: caller.tokenId }
    if (caller.kind === 'client') return await liveClient(caller.id) ? { ...common, client_id: caller.id } : INACTIVE
    // The denylist has refused the tokens of a disabled or deleted user's sessions already;
    // the user and session are read as /auth/me reads them (the read cache), which has the last word.
    const found = await signedIn(caller.id, caller.sessionId)
    return found === null
      ? INACTIVE
      : { ...common, username: found.user.username, sid: caller.sessionId, amr: found.session.amr.split(' '), auth_time: seconds(found.session.createdAt) }
  }

  async function refreshToken (token: string): Promise<Introspected> {
    const found = await store.sessions.refreshToken(hashRefreshToken(token))
    const at = now()
    // A used token only names its successor during the reuse grace: it is no longer a live credential.
    if (found === null || found.usedAt !== null || found.expiresAt.getTime() <= at || found.session.revokedAt !== null ||
      found.session.expiresAt.getTime() <= at || found.user.disabled) return INACTIVE
    return {
      active: true,
      scope: found.session.scope,
      username: found.user.username,
      token_type: 'refresh_token',
      exp: seconds(found.expiresAt),
      iat: seconds(found.createdAt),
      sub: found.user.id,
      iss: issuer,
      sid: found.session.id,
      amr: found.session.amr.split(' '),
      auth_time: seconds(found.session.createdAt)
    }
  }

  return {
    /** RFC 7662 §2.2: the token's state; the hint says only which kind to try first. */
    async introspect (token: string, hint: string | undefined): Promise<Introspected> {
      const accessFirst = hint === 'access_token' || (hint !== 'refresh_token' && token.split('.').length === 3)
      const order = accessFirst ? [accessToken, refreshToken] : [refreshToken, accessToken]
      for (const look of order) {
        const found = await look(token)
        if (found.active) return found
      }
      return INACTIVE
    }
  }
}

export type Introspection = ReturnType<typeof createIntrospection>
