// The audit trail's rows: written inside the transaction of the change they record.
import type { Db } from './database.js'
import type { AuditEntry, AuditRecord } from './records.js'

export interface AuditFilter {
  limit: number
  /** Events older than this sequence number. */
  before?: number
  userId?: string
  actorId?: string
  type?: string
}

export function createAudit (db: Db) {
  return {
    async record (entry: AuditEntry): Promise<void> {
      await db.auditEvent.create({
        data: {
          type: entry.type,
          userId: entry.userId ?? null,
          actorId: entry.actorId ?? null,
          sessionId: entry.sessionId ?? null,
          ip: entry.ip ?? null,
          userAgent: entry.userAgent ?? null,
          detail: entry.detail === undefined ? null : JSON.stringify(entry.detail)
        }
      })
    },

    /** Up to `limit` events, newest first. */
    async list ({ limit, before, userId, actorId, type }: AuditFilter): Promise<AuditRecord[]> {
      const rows = await db.auditEvent.findMany({
        where: { userId, actorId, type, ...(before !== undefined && { seq: { lt: before } }) },
        orderBy: { seq: 'desc' },
        take: limit
      })
      return rows.map(row => ({ ...row, detail: row.detail === null ? null : JSON.parse(row.detail) as Record<string, unknown> }))
    }
  }
}
