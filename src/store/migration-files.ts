// What both engines' migrators (./migrate.ts, ./postgres-migrate.ts) and Prisma's schema engine
// (./schema-engine.ts) read the same way: a folder of migrations, each `<name>/migration.sql`,
// applied in the order of their names, and recorded in `_prisma_migrations` as Prisma records
// them. No driver here: each engine's own module loads its own.
import { createHash } from 'node:crypto'
import { readdirSync } from 'node:fs'

/** The migrations of a folder, in the order they apply. */
export function migrationNames (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter(e => e.isDirectory()).map(e => e.name).sort()
}

/** A migration's checksum in `_prisma_migrations`, as Prisma computes it: SHA-256 of its SQL, in hex. */
export const migrationChecksum = (sql: string): string => createHash('sha256').update(sql).digest('hex')

/** A history row started and never finished: only `prisma migrate` leaves one so, and its own `migrate resolve` is the way out. */
export const unfinishedMigration = (name: string): Error =>
  new Error(`migration ${name} is recorded as started and never finished; resolve it with \`prisma migrate resolve\``)
