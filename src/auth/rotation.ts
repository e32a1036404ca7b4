// What a refresh token's presentation decides, as a pure function of what the store found: no
// clock, no randomness, no database. src/auth/sessions.ts carries the decision out.
import { grantedScopes, narrowScopes, type Scope } from '../roles.js'
import type { RotationFacts } from '../store/index.js'

export type RotationDecision =
  | { outcome: 'invalid' }
  | { outcome: 'invalid_scope' }
  /** First use: the token is used up and a successor issued. */
  | { outcome: 'rotate', scopes: Scope[] }
  /** A retry inside the grace window: the successor issued at the first use, again. */
  | { outcome: 'retry', scopes: Scope[], sealedSuccessor: string }
  /** A used token past the grace window: someone replays a token that was rotated away. */
  | { outcome: 'reused', userId: string, sessionId: string }

/**
 * The scopes of a session's next token: those granted at login less any its user's roles no
 * longer grant, narrowed to those asked for (never widened). Undefined when nothing is left.
 */
export function sessionScopes (sessionScope: string, roles: readonly string[], requested: readonly string[] | undefined): Scope[] | undefined {
  const granted = new Set(sessionScope.split(' '))
  const scopes = narrowScopes(grantedScopes(roles).filter(s => granted.has(s)), requested)
  return scopes?.length === 0 ? undefined : scopes
}

export function decideRotation (facts: RotationFacts | undefined, { now, requested, graceMs }: {
  now: number
  requested: readonly string[] | undefined
  graceMs: number
}): RotationDecision {
  if (facts === undefined) return { outcome: 'invalid' }
  const { token, session, user } = facts
  // (a second to spare, so that the access token issued now lives at least that long)
  if (session.revokedAt !== null || session.expiresAt.getTime() <= now + 1000 ||
    token.expiresAt.getTime() <= now || user.disabled) return { outcome: 'invalid' }

  const scopes = sessionScopes(session.scope, user.roles, requested)
  if (token.usedAt === null) return scopes === undefined ? { outcome: 'invalid_scope' } : { outcome: 'rotate', scopes }
  if (now - token.usedAt.getTime() <= graceMs && token.successor !== null) {
    return scopes === undefined ? { outcome: 'invalid_scope' } : { outcome: 'retry', scopes, sealedSuccessor: token.successor }
  }
  return { outcome: 'reused', userId: user.id, sessionId: session.id }
}
