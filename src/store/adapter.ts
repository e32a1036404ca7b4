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
import type { Database } from 'better-sqlite3'

const statement = (sql: string): SqlQuery => ({ sql, args: [], argTypes: [] })

export interface Connection {
  /**
   * Runs `work`, which must be synchronous, in a BEGIN IMMEDIATE transaction on Prisma's own
   * connection, once no Prisma transaction is open. For hot paths where Prisma's per-query
   * overhead is the cost: nothing can interleave with synchronous work, and on the same
   * connection there is no lock to wait for within this process.
   *
   * Works that arrive in the same turn of the event loop share one transaction, each in its own
   * savepoint (group commit): with synchronous=FULL a commit costs an fsync, and that, not the
   * statements, is what limits concurrent writers. A work that throws rolls back its savepoint
   * only; the promise of every work settles after the commit, so nothing is acknowledged before
   * it is on disk.
   *
   * Never call it from inside a Prisma transaction: it waits for that transaction to end.
   */
  immediate<T> (work: (db: Database) => NotPromise<T>): Promise<T>
  /**
   * Runs `work`, which must be synchronous and only read, on Prisma's own connection once no
   * Prisma transaction is open, as Prisma's own queries do: it never sees rows that a
   * transaction has not committed yet. For reads of many rows, where Prisma's work per row is
   * the cost.
   */
  read<T> (work: (db: Database) => NotPromise<T>): Promise<T>
}

/**
 * Statements prepared once per connection, for raw work: after $disconnect() Prisma opens a new
 * connection, where a statement of the old one would fail.
 */
export function perConnection<T> (prepare: (db: Database) => T): (db: Database) => T {
  const prepared = new WeakMap<Database, T>()
  return (db) => {
    let statements = prepared.get(db)
    if (statements === undefined) prepared.set(db, statements = prepare(db))
    return statements
  }
}

// A work that awaited would go on after its transaction, on the shared connection.
type NotPromise<T> = T extends PromiseLike<unknown> ? never : T

interface Queued { work: (db: Database) => unknown, resolve: (value: unknown) => void, reject: (err: unknown) => void }

function exclusive (adapter: SqlDriverAdapter, connection: { current?: Connection }): SqlDriverAdapter {
  // Settles when the open transaction ends. Every check of it is followed by synchronous work
  // (better-sqlite3 is synchronous), so nothing can slip in between the check and the query.
  let open: Promise<void> | undefined

  // The adapter keeps its better-sqlite3 handle as `client`; not part of its types, so checked.
  const db = (adapter as unknown as { client?: Database }).client
  if (typeof db?.prepare !== 'function' || typeof db.transaction !== 'function') {
    throw new Error('@prisma/adapter-better-sqlite3 no longer exposes its connection as `client`: src/store/adapter.ts needs an update')
  }
  let queue: Queued[] = []
  // Inside a transaction, better-sqlite3's transaction functions open a savepoint instead.
  const savepoint = db.transaction((work: Queued['work']) => work(db))
  const commitBatch = db.transaction((batch: Queued[]) => batch.map(({ work }) => {
    try {
      return { ok: true, value: savepoint(work) }
    } catch (err) {
      // An error that ended the whole transaction (disk full, I/O) takes the batch with it.
      if (!db.inTransaction) throw err
      return { ok: false, err }
    }
  })).immediate

  async function flush () {
    // Whatever else this turn of the event loop queues joins the batch.
    await new Promise(resolve => setImmediate(resolve))
    while (open !== undefined) await open
    const batch = queue
    queue = []
    let outcomes: Array<{ ok: boolean, value?: unknown, err?: unknown }>
    try {
      outcomes = commitBatch(batch)
    } catch (err) {
      for (const item of batch) item.reject(err)
      return
    }
    batch.forEach((item, i) => { outcomes[i].ok ? item.resolve(outcomes[i].value) : item.reject(outcomes[i].err) })
  }

  const current: Connection = {
    immediate: async <T>(work: (db: Database) => T) => await new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (queue.length === 1) void flush()
    }),
    read: async <T>(work: (db: Database) => T) => {
      while (open !== undefined) await open
      return work(db)
    }
  }
  connection.current = current

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
    async dispose () {
      // After $disconnect(), the next raw work connects anew (./database.ts), as
      // Prisma's next query would.
      if (connection.current === current) connection.current = undefined
      await adapter.dispose()
    }
  }
}

/** The factory to give PrismaClient, and (once connected) raw access to the same connection. */
export function exclusiveTransactions (factory: SqlDriverAdapterFactory): { adapter: SqlDriverAdapterFactory, connection: { current?: Connection } } {
  const connection: { current?: Connection } = {}
  return {
    connection,
    adapter: {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => exclusive(await factory.connect(), connection)
    }
  }
}
