// The store: the only code that touches Prisma, SQL or a driver. One module per aggregate, each
// speaking the records of ./records.ts. The modules are written on Prisma, which runs them on
// either engine and inside transactions; the hot paths are statements of each engine's own
// (./sqlite.ts, ./postgres.ts), held to the same contract (test/store/store.test.ts).
import { setTimeout as sleep } from 'node:timers/promises'
import { openDatabase, sqliteBusy, type Db } from './database.js'
import { openPostgres, type PoolStats, type PostgresOptions } from './postgres-database.js'
import { postgresBusy, serializationFailure } from './postgres-errors.js'
import { createUsers } from './users.js'
import { createSessions } from './sessions.js'
import { createDenylist } from './denylist.js'
import { createAudit } from './audit.js'
import { createAttempts } from './attempts.js'
import { createSigningKeys } from './signing-keys.js'
import { createClients } from './clients.js'
import { createMailTokens } from './mail-tokens.js'
import { createOutbox } from './outbox.js'
import { createSecondFactors } from './second-factors.js'
import { createChallenges } from './challenges.js'
import { createReadCache, type Change, type ReadCache } from './read-cache.js'
import { createSqlitePaths, type FastPaths } from './sqlite.js'
import { createPostgresPaths } from './postgres.js'
import { isPostgresUrl } from './engine.js'
import { NOTIFY_DENYLIST } from './postgres-feed.js'
import type { Connection } from './adapter.js'
import type { RotationClaim, RotationFacts } from './records.js'
import type { UserFilter } from './users.js'
import type { PrismaClient } from '../generated/prisma/client.js'

/** Whom a write touched, for the read cache: a user (its roles, its fields), or a user's sessions. */
export interface Touched {
  user: (id: string) => void
  sessions: (userId: string) => void
}

/**
 * The modules on `db`. Each write that changes what the read cache keeps tells `touched` whose;
 * test/store/read-cache.test.ts fails on a method that is neither wrapped here nor listed there
 * as a read.
 */
export function modules (db: Db, touched: Touched) {
  const users = createUsers(db)
  const sessions = createSessions(db)
  const ofUser = <A extends [string, ...unknown[]], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await write(...args)
      } finally {
        touched.user(args[0])
      }
    }
  return {
    users: {
      ...users,
      async create (input: Parameters<typeof users.create>[0]) {
        const created = await users.create(input)
        if (typeof created !== 'string') touched.user(created.id)
        return created
      },
      setPasswordHash: ofUser(users.setPasswordHash),
      replacePassword: ofUser(users.replacePassword),
      setEmailVerified: ofUser(users.setEmailVerified),
      changeEmail: ofUser(users.changeEmail),
      setRoles: ofUser(users.setRoles),
      setDisabled: ofUser(users.setDisabled),
      remove: ofUser(users.remove)
    },
    sessions: {
      ...sessions,
      async open (input: Parameters<typeof sessions.open>[0]) {
        try {
          return await sessions.open(input)
        } finally {
          touched.sessions(input.userId)
        }
      },
      async revoke (ids: string[], at: Date) {
        const owners = await sessions.revoke(ids, at)
        for (const owner of owners) touched.sessions(owner)
        return owners
      }
    },
    denylist: createDenylist(db),
    audit: createAudit(db),
    attempts: createAttempts(db),
    signingKeys: createSigningKeys(db),
    clients: createClients(db),
    mailTokens: createMailTokens(db),
    outbox: createOutbox(db),
    secondFactors: createSecondFactors(db),
    challenges: createChallenges(db)
  }
}

// What a transaction touched, told to the read cache once it has committed: until then the
// change is not there to be read (PostgreSQL), or no read runs (SQLite waits for the transaction).
function touchedIn (cache: ReadCache) {
  const users = new Set<string>()
  const sessions = new Set<string>()
  return {
    touched: { user: (id: string) => users.add(id), sessions: (id: string) => sessions.add(id) } satisfies Touched,
    committed () {
      for (const id of users) cache.forgetUser(id)
      for (const id of sessions) cache.forgetSessions(id)
    }
  }
}

// Prisma's operations that only read; any other, on the client the tests and tools are given,
// makes the read cache forget everything.
const PRISMA_READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy'])

/** The store inside a transaction: every module, each write undone if the transaction fails. */
export type Transaction = ReturnType<typeof modules>

export const defaultPostgresOptions: PostgresOptions = { poolMax: 10, statementTimeoutMs: 5000, connectTimeoutMs: 5000 }

/**
 * Runs one of the store's own statements (the hot paths, which bypass Prisma), by its name: a
 * tracer wraps each in a span (src/telemetry/tracing.ts).
 */
export type Statements = <T>(engine: Engine, name: string, run: () => Promise<T>) => Promise<T>
type Engine = 'sqlite' | 'postgres'

function observed (engine: Engine, fast: FastPaths, statements: Statements | undefined): FastPaths {
  if (statements === undefined) return fast
  return Object.fromEntries(Object.entries(fast).map(([name, path]) =>
    [name, (...args: unknown[]) => statements(engine, name, () => (path as (...a: unknown[]) => Promise<unknown>)(...args))])) as FastPaths
}

export function createStore (url: string, postgres: PostgresOptions = defaultPostgresOptions, { statements }: { statements?: Statements } = {}) {
  if (isPostgresUrl(url)) {
    const database = openPostgres(url, postgres)
    // Both clients are generated from the same models (prisma/postgres-schema.mjs): the model API
    // the modules use is the same, and the store's contract test runs them on both.
    return assemble('postgres', database.prisma as unknown as PrismaClient, observed('postgres', createPostgresPaths(database.pool), statements), database, undefined, {
      // Prisma's own limits (2 s to start, 5 s to finish) would end a transaction that waits for
      // a connection or a statement within the configured ones.
      maxWait: postgres.connectTimeoutMs,
      timeout: postgres.statementTimeoutMs * 2
    })
  }
  const database = openDatabase(url)
  // Processes sharing a SQLite file learn of each other's denylist rows by the periodic sync only.
  const watchDenylist = () => () => {}
  return assemble('sqlite', database.prisma, observed('sqlite', createSqlitePaths(database.connection), statements), { ...database, watchDenylist }, database.connection)
}

interface Lifecycle {
  ready: () => Promise<string[]>
  ping: () => Promise<boolean>
  /** The connection pool's state, where there is one (PostgreSQL). */
  poolStats?: () => PoolStats
  close: () => Promise<void>
  watchDenylist: (listener: () => void) => () => boolean | void
  /** Tells `listener` what other processes changed, as far as the read cache is concerned. */
  watchChanges: (listener: (change: Change) => void) => () => void
}

function assemble (engine: Engine, prisma: PrismaClient, fast: FastPaths, database: Lifecycle, connection: Connection | undefined, limits?: TransactionLimits) {
  const cache = createReadCache()
  const portable = modules(prisma, { user: cache.forgetUser, sessions: cache.forgetSessions })
  // The feed starts with the first read that may be kept: the CLI and the migrations never need it.
  let unwatch: (() => void) | undefined
  const cached = <A extends unknown[], R>(read: (...args: A) => Promise<R>) => (...args: A): Promise<R> => {
    unwatch ??= database.watchChanges(cache.changed)
    return read(...args)
  }

  return {
    engine,
    users: {
      ...portable.users,
      get: fast.user,
      list: cached((filter: UserFilter) => cache.listUsers(filter, () => fast.listUsers(filter)))
    },
    sessions: {
      ...portable.sessions,
      live: cached((userId: string, now: number) => cache.liveSessions(userId, now, () => fast.liveSessions(userId, now))),
      /** The user and one of its sessions, read together. */
      userAndSession: cached((userId: string, sessionId: string) => cache.signedIn(userId, sessionId, () => fast.userAndSession(userId, sessionId)))
    },
    refreshTokens: {
      async rotate<T> (hash: string, decide: (facts: RotationFacts | undefined) => { result: T, claim?: RotationClaim }): Promise<T> {
        let owner: string | undefined
        try {
          return await fast.rotate(hash, facts => {
            const decided = decide(facts)
            if (decided.claim !== undefined) owner = facts?.user.id
            return decided
          })
        } finally {
          // (its session's lastUsedAt)
          if (owner !== undefined) cache.forgetSessions(owner)
        }
      }
    },
    // (Its rows are added inside transactions only: tx.denylist.add.)
    denylist: {
      since: fast.deniedSince,
      async purge (now: number, sessionsBefore: number) {
        try {
          return await fast.purge(now, sessionsBefore)
        } finally {
          cache.forgetAll()
        }
      },
      /**
       * Calls `listener` soon after another instance adds rows, where the engine can tell
       * (PostgreSQL); returns the unsubscribe. The periodic sync is still needed.
       */
      watch: database.watchDenylist
    },
    audit: portable.audit,
    signingKeys: portable.signingKeys,
    clients: portable.clients,
    mailTokens: portable.mailTokens,
    secondFactors: portable.secondFactors,
    challenges: portable.challenges,
    outbox: {
      ...portable.outbox,
      /**
       * Takes up to `limit` messages due at `now` for one sender, until `until`: no other sender
       * gets them meanwhile, on any instance; one whose sender died is taken again after.
       */
      take: fast.takeMail
    },
    /** Password attempts and known addresses, where instances share them (`shared`). */
    attempts: { ...portable.attempts, take: fast.takeAttempt },
    /**
     * Whether other instances may share this database (PostgreSQL): the per-account password
     * limits then count in it, rather than in each process's memory.
     */
    shared: engine === 'postgres',

    /**
     * Runs `work` in one transaction; it commits when `work` resolves and rolls back when it
     * throws. Inside, use only the modules it is given: the store's own methods run outside it
     * (on SQLite they wait for it to end, which would never come).
     */
    transaction: engine === 'sqlite'
      ? async <T>(work: (tx: Transaction) => Promise<T>): Promise<T> => {
        const { touched, committed } = touchedIn(cache)
        const result = await prisma.$transaction(tx => work(modules(tx, touched)))
        committed()
        return result
      }
      : <T>(work: (tx: Transaction) => Promise<T>): Promise<T> => serializable(prisma, cache, work, limits),

    ready: database.ready,
    ping: database.ping,
    poolStats: database.poolStats,
    async close () {
      unwatch?.()
      await database.close()
    },

    /**
     * Prisma's client, and SQLite's raw connection, for the tests that look at what is stored.
     * A write through this client makes the read cache forget everything, as one from another
     * process would.
     */
    prisma: prisma.$extends({
      query: {
        async $allOperations ({ operation, args, query }) {
          try {
            return await query(args)
          } finally {
            if (!PRISMA_READS.has(operation)) cache.forgetAll()
          }
        }
      }
    }) as unknown as PrismaClient,
    connection
  }
}

// PostgreSQL runs the store's transactions serializable, as SQLite's are by construction (one
// writer at a time, ./adapter.ts). Under READ COMMITTED a login that reads its user while an
// admin disables it, and the disable that looks for that user's sessions meanwhile, would both
// commit, leaving a live session to a disabled account; serializable, one of them fails and runs
// again from the start (its work only reads and writes through `tx`, so it can).
const ATTEMPTS = 8

interface TransactionLimits { maxWait: number, timeout: number }

async function serializable<T> (prisma: PrismaClient, cache: ReadCache, work: (tx: Transaction) => Promise<T>, limits?: TransactionLimits): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { touched, committed } = touchedIn(cache)
    try {
      const result = await prisma.$transaction(async tx => {
        const inside = modules(tx, touched)
        let denied = false
        const result = await work({ ...inside, denylist: { add: async entries => { await inside.denylist.add(entries); denied ||= entries.length > 0 } } })
        // Delivered to the other instances when, and only if, this commits (./postgres-feed.ts).
        if (denied) await tx.$executeRawUnsafe(NOTIFY_DENYLIST)
        return result
      }, { isolationLevel: 'Serializable', ...limits })
      committed()
      return result
    } catch (err) {
      if (!serializationFailure(err) || attempt === ATTEMPTS) throw err
      // Apart, so that the same two do not collide again.
      await sleep(Math.random() * 5 * attempt)
    }
  }
}

export type Store = ReturnType<typeof createStore>
export type { ChallengeKind, ChallengeRecord, PasskeyRecord, TotpRecord } from './records.js'
export type { Client, ClientAuthMethod, DenyEntry, MailTokenPurpose, MailTokenRecord, OAuthClientRecord, OutboxMessage, Session, SessionSummary, SigningKeyRecord, User, UserSummary, AuditEntry, AuditRecord } from './records.js'
export type { RotationFacts, RotationClaim } from './records.js'
export type { PoolStats, PostgresOptions } from './postgres-database.js'
export type { SessionSelection } from './sessions.js'
export type { UserFilter } from './users.js'
export type { AuditFilter } from './audit.js'
export type { ClientFields } from './clients.js'
export { databaseUnavailable } from './postgres-errors.js'

/** The database is too busy to answer now (a lock, a timeout): nothing was written; retry shortly. */
export const databaseBusy = (err: unknown) => sqliteBusy(err) || postgresBusy(err)
export { DatabaseStartError, isPostgresUrl } from './engine.js'
export { copySqliteToPostgres } from './copy.js'
