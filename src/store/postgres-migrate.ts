// Applies prisma/postgres/migrations/*/migration.sql in order on PostgreSQL, recording each in
// `_prisma_migrations` as `prisma migrate deploy` does (same table, same checksum), so that the
// Prisma CLI, where it can run, sees the same history.
//
// Under an advisory lock: instances started at once on an empty database queue on it; the first
// migrates, the others find nothing pending. Each migration runs in one transaction with its
// history row (PostgreSQL's DDL is transactional): a crash midway leaves it wholly unapplied.
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type pg from 'pg'
import { prismaDir } from '../paths.js'
import { migrationChecksum, migrationNames, unfinishedMigration } from './migration-files.js'

export const postgresMigrationsDir = join(prismaDir, 'postgres', 'migrations')

// The key `prisma migrate` itself locks: the service and the CLI never migrate at the same time.
const MIGRATION_LOCK = 72707369

// The table as Prisma's schema engine creates it.
const HISTORY = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`

/** Brings the database up to date on `client` (one connection); returns the migrations it applied. */
export async function migratePostgres (client: pg.ClientBase): Promise<string[]> {
  // Waiting for another instance's migrations, and a migration's own statements, may take longer
  // than the statement timeout the service's connections have.
  await client.query('SET statement_timeout = 0')
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
  try {
    await client.query(HISTORY)
    const { rows } = await client.query<{ migration_name: string, finished_at: Date | null }>(
      'SELECT migration_name, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL')
    const failed = rows.find(row => row.finished_at === null)
    if (failed !== undefined) throw unfinishedMigration(failed.migration_name)
    const applied = new Set(rows.map(row => row.migration_name))
    const done: string[] = []
    for (const name of migrationNames(postgresMigrationsDir)) {
      if (applied.has(name)) continue
      const sql = await readFile(join(postgresMigrationsDir, name, 'migration.sql'), 'utf8')
      await client.query('BEGIN')
      try {
        await client.query(sql)
        await client.query(
          'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ($1, $2, now(), $3, now(), 1)',
          [randomUUID(), migrationChecksum(sql), name])
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw new Error(`migration ${name} failed: ${(err as Error).message}`)
      }
      done.push(name)
    }
    return done
  } finally {
    // If this fails the connection is broken: its owner closes it, and the lock goes with it.
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK])
    await client.query('RESET statement_timeout')
  }
}
