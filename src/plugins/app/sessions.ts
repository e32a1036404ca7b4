// Sessions: one per login. Everything that creates, uses or ends one lives here, so that the
// routes (token endpoint, cookie login, ...) share one implementation.
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Session } from '../../generated/prisma/client.js'
import type { Scope } from '../../roles.js'
import type { User } from './users.js'

export interface ClientInfo {
  ip: string
  userAgent: string | undefined
}

export interface IssuedTokens {
  session: Session
  accessToken: string
  /** Seconds. */
  expiresIn: number
  scope: string
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: {
      /** Opens a session for a user whose credentials were checked, and signs its first access token. */
      start (user: User, scopes: Scope[], client: ClientInfo): Promise<IssuedTokens>
    }
  }
}

// A user agent is informational; bound what one client can make us store.
const MAX_USER_AGENT = 512

export default fp(async function sessions (app) {
  const { prisma, config } = app

  function signAccessToken (user: User, session: Session): string {
    return app.jwt.sign({ sub: user.id, sid: session.id, jti: randomUUID(), scope: session.scope })
  }

  app.decorate('sessions', {
    async start (user: User, scopes: Scope[], client: ClientInfo) {
      const session = await prisma.session.create({
        data: {
          userId: user.id,
          scope: scopes.join(' '),
          ip: client.ip,
          userAgent: client.userAgent?.slice(0, MAX_USER_AGENT),
          expiresAt: new Date(Date.now() + config.SESSION_TTL * 1000)
        }
      })
      return {
        session,
        accessToken: signAccessToken(user, session),
        expiresIn: config.ACCESS_TOKEN_TTL,
        scope: session.scope
      }
    }
  })
}, { name: 'sessions', dependencies: ['prisma', 'jwt'] })
