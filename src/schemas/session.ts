import { Type, type Static } from '@sinclair/typebox'
import { PublicUser } from './user.js'
import { iso } from './common.js'

export const SessionView = Type.Object({
  id: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time', description: 'The absolute end of the session' }),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'The session of the token that asked' })
}, { title: 'Session' })
export type SessionView = Static<typeof SessionView>

export interface SessionFacts { id: string, createdAt: Date | string, lastUsedAt: Date | string, expiresAt: Date | string, userAgent: string | null, ip: string | null }

/** A session as its user sees it; `current` marks the one whose token asked. */
export function toSessionView (session: SessionFacts, currentId: string | null): SessionView {
  return {
    id: session.id,
    createdAt: iso(session.createdAt),
    lastUsedAt: iso(session.lastUsedAt),
    expiresAt: iso(session.expiresAt),
    userAgent: session.userAgent,
    ip: session.ip,
    current: session.id === currentId
  }
}

/** What browser mode answers instead of tokens, which travel in cookies only. */
export const BrowserSession = Type.Object({
  user: PublicUser,
  expiresAt: Type.String({ format: 'date-time', description: 'When the access cookie expires; refresh before then' }),
  csrfToken: Type.String({ description: 'Send it as x-csrf-token with every POST, PUT, PATCH and DELETE' })
}, { title: 'Browser session' })
export type BrowserSession = Static<typeof BrowserSession>

export const LoginRequest = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 254, description: 'Username or email' }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  scope: Type.Optional(Type.String({ maxLength: 1024 }))
}, { additionalProperties: false })
export type LoginRequest = Static<typeof LoginRequest>
