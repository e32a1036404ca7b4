// Copies a SQLite database into an empty PostgreSQL one, rows as they are: users and their roles
// and second factors, sessions with their refresh tokens, the denylist, the audit trail, keys,
// clients, the mail outbox. Ids, hashes and times are
// kept, so that every session, refresh token and access token goes on working (and every
// revoked one stays refused) after the move: nobody is logged out.
import Database from 'better-sqlite3'
import pg from 'pg'
import { migratePostgres } from './postgres-migrate.js'
import { pendingMigrations } from './migrate.js'
import { withoutPassword } from './engine.js'

// Every table, in the order the foreign keys need. A table of the source that is not here stops
// the copy: nothing is left behind unnoticed (a user's second factor least of all).
const TABLES = ['User', 'UserRole', 'Session', 'RefreshToken', 'DeniedToken', 'AuditEvent', 'KnownAddress', 'PasswordAttempt', 'SigningKey', 'OAuthClient', 'UsedAssertion',
  'MailToken', 'MailMessage', 'TotpFactor', 'RecoveryCode', 'Passkey', 'Challenge'] as const
const NOT_COPIED = new Set(['_prisma_migrations', 'sqlite_sequence'])
// Tables whose key comes from a sequence, which must go on after the copied rows.
const SEQUENCES = { DeniedToken: 'seq', AuditEvent: 'seq' } as const
const BATCH = 500

export class CopyError extends Error {
  override name = 'CopyError'
}

type Convert = (value: unknown) => unknown
const asTime: Convert = value => value === null ? null : new Date(typeof value === 'bigint' ? Number(value) : value as string | number).toISOString()
const asBoolean: Convert = value => value === null ? null : Number(value) !== 0
const asInteger: Convert = value => value === null ? null : Number(value)
const CONVERT: Record<string, Convert> = { 'timestamp without time zone': asTime, boolean: asBoolean, integer: asInteger }

const quoted = (name: string) => `"${name}"`

/** Copies every row from the SQLite file at `from` into the PostgreSQL database at `to`; returns the rows per table. */
export async function copySqliteToPostgres (from: string, to: string, log: (line: string) => void = () => {}): Promise<Record<string, number>> {
  const file = from.replace(/^file:/, '')
  const pending = pendingMigrations(file)
  if (pending.length > 0) throw new CopyError(`${from} is not migrated to this version (${pending.length} pending): start the service on it once, then copy`)
  const source = new Database(file, { readonly: true, fileMustExist: true })
  const target = new pg.Client({ connectionString: to })
  try {
    const unknown = (source.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[])
      .filter(name => !NOT_COPIED.has(name) && !(TABLES as readonly string[]).includes(name))
    if (unknown.length > 0) throw new CopyError(`this version does not know how to copy ${unknown.join(', ')}`)
    await target.connect().catch((err: Error) => { throw new CopyError(`cannot connect to ${withoutPassword(to)}: ${err.message}`) })
    const applied = await migratePostgres(target)
    if (applied.length > 0) log(`migrated ${withoutPassword(to)}: ${applied.join(', ')}`)
    for (const table of TABLES) {
      const { rows: [{ n }] } = await target.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoted(table)}`)
      if (n > 0) throw new CopyError(`${withoutPassword(to)} is not empty (${table} has ${n} rows): copy into an empty database only`)
    }

    const counts: Record<string, number> = {}
    // One transaction: a copy that fails midway leaves the target as empty as it found it.
    await target.query('BEGIN')
    try {
      for (const table of TABLES) {
        const { rows: columns } = await target.query<{ name: string, type: string }>(
          'SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position', [table])
        const names = columns.map(c => c.name)
        const converts = columns.map(c => CONVERT[c.type] ?? ((value: unknown) => value))
        const read = source.prepare(`SELECT ${names.map(quoted).join(', ')} FROM ${quoted(table)}`).raw().safeIntegers()
        let batch: unknown[][] = []
        counts[table] = 0
        const flush = async () => {
          if (batch.length === 0) return
          const values = batch.flatMap(row => row.map((value, i) => converts[i](value)))
          const tuples = batch.map((_, r) => `(${names.map((_, c) => `$${r * names.length + c + 1}`).join(', ')})`)
          await target.query(`INSERT INTO ${quoted(table)} (${names.map(quoted).join(', ')}) VALUES ${tuples.join(', ')}`, values)
          counts[table] += batch.length
          batch = []
        }
        for (const row of read.iterate() as Iterable<unknown[]>) {
          batch.push(row)
          if (batch.length === BATCH) await flush()
        }
        await flush()
        if (table in SEQUENCES) {
          const column = SEQUENCES[table as keyof typeof SEQUENCES]
          await target.query(`SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT max(${quoted(column)}) FROM ${quoted(table)}), 1), (SELECT count(*) > 0 FROM ${quoted(table)}))`, [quoted(table), column])
        }
        log(`${table}: ${counts[table]} rows`)
      }
      await target.query('COMMIT')
    } catch (err) {
      await target.query('ROLLBACK').catch(() => {})
      throw err
    }
    return counts
  } finally {
    source.close()
    await target.end().catch(() => {})
  }
}
