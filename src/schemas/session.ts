import { Type, type Static } from '@sinclair/typebox'

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
