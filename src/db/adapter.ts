// Prisma's better-sqlite3 adapter runs every query on one connection and opens transactions with
// a deferred BEGIN. Left as is, that costs two things:
// - a query from outside a transaction that arrives while one is open (between two of its
//   awaits) runs inside it, and is silently undone if that transaction rolls back: an
//   acknowledged write lost;
// - a deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
//   another process wrote in between, whatever the busy timeout.
// This wrapper gives each transaction the connection to itself (other queries wait for it to
// end) and begins it IMMEDIATE, so the write lock is taken, or waited for, up front.
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils'

const statement = (sql: string): SqlQuery => ({ sql, args: [], argTypes: [] })

function exclusive (adapter: SqlDriverAdapter): SqlDriverAdapter {
  // Settles when the open transaction ends. Every check of it is followed by synchronous work
  // (better-sqlite3 is synchronous), so nothing can slip in between the check and the query.
  let open: Promise<void> | undefined

  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    async queryRaw (query) {
      while (open !== undefined) await open
      return await adapter.queryRaw(query)
    },
    async executeRaw (query) {
      while (open !== undefined) await open
      return await adapter.executeRaw(query)
    },
    async executeScript (script) {
      while (open !== undefined) await open
      return await adapter.executeScript(script)
    },
    async startTransaction (): Promise<Transaction> {
      while (open !== undefined) await open
      let end!: () => void
      open = new Promise(resolve => { end = resolve })
      const finish = () => { open = undefined; end() }
      try {
        await adapter.executeRaw(statement('BEGIN IMMEDIATE'))
      } catch (err) {
        finish()
        throw err
      }
      // Prisma sends COMMIT and ROLLBACK itself (usePhantomQuery: false), then calls these.
      return {
        provider: adapter.provider,
        adapterName: adapter.adapterName,
        options: { usePhantomQuery: false },
        queryRaw: query => adapter.queryRaw(query),
        executeRaw: query => adapter.executeRaw(query),
        commit: async () => finish(),
        async rollback () {
          // After a failed COMMIT Prisma calls rollback() without sending ROLLBACK: make sure the
          // connection does not stay inside the transaction. Otherwise this one finds none.
          await adapter.executeRaw(statement('ROLLBACK')).catch(() => {})
          finish()
        }
      }
    },
    getConnectionInfo: adapter.getConnectionInfo?.bind(adapter),
    dispose: () => adapter.dispose()
  }
}

export function exclusiveTransactions (factory: SqlDriverAdapterFactory): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => exclusive(await factory.connect())
  }
}
