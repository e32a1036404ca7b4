// The store: the only code that touches Prisma, SQL or a driver. One module per aggregate, each
// speaking the records of ./records.ts. The modules are written on Prisma, which runs them on any
// engine and inside transactions; on SQLite the hot paths are replaced by prepared statements
// (./sqlite.ts), which is what another engine implements again its own way.
import { openDatabase, type Db } from './database.js'
import { createUsers } from './users.js'
import { createSessions } from './sessions.js'
import { createDenylist } from './denylist.js'
import { createAudit } from './audit.js'
import { createSqlitePaths } from './sqlite.js'

function modules (db: Db) {
  return {
    users: createUsers(db),
    sessions: createSessions(db),
    denylist: createDenylist(db),
    audit: createAudit(db)
  }
}

/** The store inside a transaction: every module, each write undone if the transaction fails. */
export type Transaction = ReturnType<typeof modules>

export function createStore (url: string) {
  const database = openDatabase(url)
  const { prisma, connection } = database
  const portable = modules(prisma)
  const fast = createSqlitePaths(connection)

  return {
    users: { ...portable.users, get: fast.user, list: fast.listUsers },
    sessions: {
      ...portable.sessions,
      live: fast.liveSessions,
      /** The user and one of its sessions, read together. */
      userAndSession: fast.userAndSession
    },
    refreshTokens: { rotate: fast.rotate },
    denylist: { ...portable.denylist, since: fast.deniedSince, purge: fast.purge },
    audit: portable.audit,

    /**
     * Runs `work` in one transaction; it commits when `work` resolves and rolls back when it
     * throws. Inside, use only the modules it is given: the store's own methods wait for the
     * transaction to end, which would never come.
     */
    transaction: <T>(work: (tx: Transaction) => Promise<T>): Promise<T> =>
      prisma.$transaction(tx => work(modules(tx))),

    ready: database.ready,
    ping: database.ping,
    close: database.close,

    /** Prisma's client and the raw connection, for the tests that look at what is stored. */
    prisma,
    connection
  }
}

export type Store = ReturnType<typeof createStore>
export type { Client, DenyEntry, Session, SessionSummary, User, UserSummary, AuditEntry, AuditRecord } from './records.js'
export type { RotationFacts, RotationClaim } from './sqlite.js'
export type { SessionSelection } from './sessions.js'
export type { UserFilter } from './users.js'
export type { AuditFilter } from './audit.js'
export { databaseBusy } from './database.js'
