import { Type, type Static } from '@sinclair/typebox'

export const ErrorReply = Type.Object({
  error: Type.String({ description: 'Stable machine-readable code' }),
  message: Type.String({ description: 'Human-readable explanation' })
}, { $id: 'ErrorReply', title: 'Error' })
export type ErrorReply = Static<typeof ErrorReply>

/** RFC 6749 §5.2 error response, used by the token endpoint. */
export const OAuthErrorReply = Type.Object({
  error: Type.String({ description: 'invalid_request, invalid_grant, invalid_scope, unsupported_grant_type, ...' }),
  error_description: Type.String()
}, { title: 'OAuth error' })

export const NoContent = Type.Null({ description: 'No content' })

/** A time as the views show it, from a Date or from ISO 8601 text in UTC already (a listing's read model). */
export const iso = (time: Date | string): string => typeof time === 'string' ? time : time.toISOString()
