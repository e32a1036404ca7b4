// The audit trail: one row per security-relevant event, written before the request is answered
// so that an acknowledged action is never missing from it. Only ids, the client's address and
// user agent, and a small detail object: never a password, a token or an attempted username.
import fp from 'fastify-plugin'
import type { AuditEvent, Prisma } from '../../generated/prisma/client.js'
import { MAX_USER_AGENT, type AuditEventView, type AuditType } from '../../schemas/audit.js'

export interface AuditEntry {
  type: AuditType
  userId?: string | null
  actorId?: string | null
  sessionId?: string | null
  ip?: string | null
  userAgent?: string | null
  detail?: Record<string, unknown>
}

export interface AuditFilter {
  limit: number
  /** Events older than this id. */
  before?: number
  userId?: string
  actorId?: string
  type?: AuditType
}

declare module 'fastify' {
  interface FastifyInstance {
    audit: {
      record (entry: AuditEntry, tx?: Prisma.TransactionClient): Promise<void>
      /** Newest first; `next` is the `before` of the following page, or null on the last. */
      list (query: AuditFilter): Promise<{ events: AuditEventView[], next: number | null }>
    }
  }
}

function view (event: AuditEvent): AuditEventView {
  return {
    id: event.seq,
    at: event.at.toISOString(),
    type: event.type as AuditType,
    userId: event.userId,
    actorId: event.actorId,
    sessionId: event.sessionId,
    ip: event.ip,
    userAgent: event.userAgent,
    detail: event.detail === null ? null : JSON.parse(event.detail) as Record<string, unknown>
  }
}

export default fp(async function audit (app) {
  const { prisma } = app
  app.decorate('audit', {
    async record (entry: AuditEntry, tx: Prisma.TransactionClient = prisma) {
      await tx.auditEvent.create({
        data: {
          type: entry.type,
          userId: entry.userId ?? null,
          actorId: entry.actorId ?? null,
          sessionId: entry.sessionId ?? null,
          ip: entry.ip ?? null,
          userAgent: entry.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
          detail: entry.detail === undefined ? null : JSON.stringify(entry.detail)
        }
      })
    },
    async list ({ limit, before, userId, actorId, type }: AuditFilter) {
      const rows = await prisma.auditEvent.findMany({
        where: { userId, actorId, type, ...(before !== undefined && { seq: { lt: before } }) },
        orderBy: { seq: 'desc' },
        take: limit + 1
      })
      const page = rows.slice(0, limit)
      return { events: page.map(view), next: rows.length > limit ? page[page.length - 1].seq : null }
    }
  })
}, { name: 'audit', dependencies: ['prisma'] })
