import { execFile } from 'node:child_process'
import { copyFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import Database from 'better-sqlite3'
import { migrate, migrationsDir, pendingMigrations } from '../../src/store/migrate.js'
import { migrationNames } from '../../src/store/migration-files.js'
import { applyMigrations, withSchemaEngine } from '../../src/store/schema-engine.js'
import { schemaPath } from '../../src/store/create-migration.js'
import { tempDir } from '../helper.js'

const run = promisify(execFile)
const all = migrationNames(migrationsDir)
// The migration that rebuilds User (a new column in the middle): it drops the table its roles
// and sessions refer to.
const rebuild = all.findIndex(name => name.endsWith('_password_version'))

/** A folder of migrations holding the first `count` of prisma/migrations. */
function firstMigrations (dir: string, count: number): string {
  const folder = join(dir, 'migrations')
  mkdirSync(folder)
  copyFileSync(join(migrationsDir, 'migration_lock.toml'), join(folder, 'migration_lock.toml'))
  for (const name of all.slice(0, count)) cpSync(join(migrationsDir, name), join(folder, name), { recursive: true })
  return folder
}

/** Everything a database's schema holds, and its history, without what differs by run (ids, times). */
function contents (file: string) {
  const db = new Database(file, { readonly: true })
  try {
    return {
      schema: db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all(),
      history: db.prepare('SELECT migration_name, checksum, logs, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name').all(),
      times: db.prepare('SELECT started_at, finished_at FROM _prisma_migrations').all() as Array<{ started_at: string, finished_at: string }>
    }
  } finally {
    db.close()
  }
}

const byPrisma = (file: string, dir = migrationsDir) => withSchemaEngine(`file:${file}`, schemaPath, engine => applyMigrations(engine, dir))

t.test('the service builds the database Prisma\'s schema engine builds, with the same history', async t => {
  const dir = tempDir(t)
  const [ours, theirs] = [join(dir, 'ours.db'), join(dir, 'theirs.db')]
  t.same(migrate(`file:${ours}`), all, 'every migration applied, in order')
  t.same(await byPrisma(theirs), all)

  const [a, b] = [contents(ours), contents(theirs)]
  t.same(a.schema, b.schema, 'the same tables, indexes and history table, to the letter')
  t.same(a.history, b.history, 'the same names, checksums and steps')
  for (const { started_at: started, finished_at: finished } of a.times) {
    t.match(started, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/, 'times written as Prisma writes them')
    t.ok(finished >= started)
  }
  t.same(await byPrisma(ours), [], 'Prisma finds nothing to apply on the service\'s database')
  t.same(migrate(`file:${theirs}`), [], 'nor the service on Prisma\'s')
  t.same(pendingMigrations(ours), [])
})

t.test('a database that Prisma\'s schema engine half migrated is finished by the service', async t => {
  const dir = tempDir(t)
  const file = join(dir, 'auth.db')
  t.same(await byPrisma(file, firstMigrations(dir, 3)), all.slice(0, 3))
  t.same(migrate(`file:${file}`), all.slice(3))
  const full = join(dir, 'full.db')
  migrate(`file:${full}`)
  t.same(contents(file).schema, contents(full).schema)
})

t.test('rebuilding a table keeps every row that refers to it', async t => {
  const dir = tempDir(t)
  const file = join(dir, 'auth.db')
  migrate(`file:${file}`, firstMigrations(dir, rebuild))
  const db = new Database(file)
  db.exec(`INSERT INTO User (id, username, email, passwordHash, updatedAt) VALUES ('u1', 'ada', 'ada@example.com', 'hash', '2026-11-28T00:00:00.000+00:00');
    INSERT INTO UserRole (userId, role) VALUES ('u1', 'user');
    INSERT INTO Session (id, userId, scope, expiresAt) VALUES ('s1', 'u1', 'profile', '2026-12-28T00:00:00.000+00:00')`)
  db.close()

  t.same(migrate(`file:${file}`), all.slice(rebuild))
  const after = new Database(file, { readonly: true })
  t.teardown(() => after.close())
  t.same(after.prepare('SELECT id, username, passwordVersion FROM User').all(), [{ id: 'u1', username: 'ada', passwordVersion: 0 }])
  t.equal(after.prepare('SELECT count(*) FROM UserRole').pluck().get(), 1, 'the roles are still there')
  t.equal(after.prepare('SELECT count(*) FROM Session').pluck().get(), 1, 'and the sessions')
  t.same(after.pragma('foreign_key_check'), [])
})

t.test('a migration that fails leaves the database at the version it had, and is tried again at the next start', async t => {
  const dir = tempDir(t)
  const file = join(dir, 'auth.db')
  migrate(`file:${file}`, firstMigrations(dir, rebuild))
  // The next release: the rest of the migrations, and a broken one after them.
  const folder = join(dir, 'next')
  cpSync(migrationsDir, folder, { recursive: true })
  mkdirSync(join(folder, '99999999999999_broken'))
  writeFileSync(join(folder, '99999999999999_broken', 'migration.sql'), 'CREATE TABLE "Extra" ("id" TEXT NOT NULL PRIMARY KEY);\nINSERT INTO "Nowhere" VALUES (1);\n')
  const before = contents(file)
  for (const attempt of ['first', 'second']) {
    t.throws(() => migrate(`file:${file}`, folder),
      /^could not migrate file:.*auth\.db: migration 99999999999999_broken failed: no such table: Nowhere$/, `the ${attempt} start`)
    const after = contents(file)
    t.same(after.schema, before.schema, 'no table, column or index of this release was kept, the broken migration\'s nor those before it')
    t.same(after.history, before.history, 'and none of them is recorded')
  }
})

t.test('a migration that leaves rows referring to nothing is refused whole', async t => {
  const dir = tempDir(t)
  const folder = firstMigrations(dir, all.length)
  mkdirSync(join(folder, '99999999999999_orphans'))
  writeFileSync(join(folder, '99999999999999_orphans', 'migration.sql'), 'INSERT INTO "UserRole" ("userId", "role") VALUES (\'nobody\', \'user\');\n')
  const file = join(dir, 'auth.db')
  migrate(`file:${file}`)
  t.throws(() => migrate(`file:${file}`, folder), /migration 99999999999999_orphans failed: 1 rows of UserRole refer to no row of User$/)
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  t.equal(db.prepare('SELECT count(*) FROM UserRole').pluck().get(), 0)
})

t.test('a migration that `prisma migrate` left started and never finished stops the start', async t => {
  const file = join(tempDir(t), 'auth.db')
  migrate(`file:${file}`)
  const db = new Database(file)
  db.prepare('UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = ?').run(all.at(-1))
  db.close()
  t.throws(() => migrate(`file:${file}`), new RegExp(`migration ${all.at(-1)} is recorded as started and never finished; resolve it with \`prisma migrate resolve\`$`))
})

t.test('a database of something else is refused, and nothing is written to it', async t => {
  const file = join(tempDir(t), 'other.db')
  const db = new Database(file)
  db.exec('CREATE TABLE "Invoice" (id TEXT)')
  db.close()
  t.throws(() => migrate(`file:${file}`), /^could not migrate file:.*other\.db: the database is not empty \(Invoice\) and has no migration history/)
  const after = new Database(file, { readonly: true })
  t.teardown(() => after.close())
  t.same(after.prepare('SELECT name FROM sqlite_master').pluck().all(), ['Invoice'])
})

// In processes of their own, as instances started together would: each takes the write lock in
// turn, and only the first finds anything to do.
t.test('instances started at once on an empty file migrate it once', async t => {
  const file = join(tempDir(t), 'auth.db')
  const script = `import { migrate } from ${JSON.stringify(new URL('../../dist/store/migrate.js', import.meta.url).href)}
    console.log(JSON.stringify(migrate(${JSON.stringify(`file:${file}`)})))`
  const runs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--input-type=module', '-e', script])))
  const applied = runs.map(({ stdout }) => JSON.parse(stdout) as string[])
  t.same(applied.flat().sort(), all, 'each migration applied by exactly one of them')
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  t.equal(db.prepare('SELECT count(*) FROM _prisma_migrations').pluck().get(), all.length)
})

// What `npm run db:migration` would write: nothing, for either engine. The PostgreSQL history is
// replayed into PGlite, the SQLite one into a scratch file; each is diffed against the models.
t.test('both engines\' migrations match prisma/schema.prisma: Prisma\'s diff from them is empty', async t => {
  const { pendingChanges } = await import('../../src/store/create-migration.js')
  t.same(await pendingChanges(), { sqlite: '', postgres: '' })
})
