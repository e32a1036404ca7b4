import { join } from 'node:path'
import t from 'tap'
import { migrateOnWorker, migrationsSettled, pendingMigrations } from '../../src/store/migrate.js'
import { tempDir } from '../helper.js'

// server.ts waits for this before any exit: a SQLite migration is not one transaction, and a
// process leaving in the middle of one would leave the database half migrated.
t.test('migrationsSettled() waits for a migration still running on its worker', async t => {
  const file = join(tempDir(t), 'auth.db')
  const run = migrateOnWorker(`file:${file}`)
  t.ok(pendingMigrations(file).length > 0, 'the worker has not finished yet')
  await migrationsSettled()
  t.same(pendingMigrations(file), [], 'every migration is applied once it settles')
  t.ok((await run).length > 0, 'and the run reports what it applied')
})

// What `npm run db:migration` would write: nothing, for either engine. The PostgreSQL history is
// replayed into PGlite, the SQLite one into a scratch file; each is diffed against the models.
t.test('both engines\' migrations match prisma/schema.prisma: Prisma\'s diff from them is empty', async t => {
  const { pendingChanges } = await import('../../src/store/create-migration.js')
  t.same(await pendingChanges(), { sqlite: '', postgres: '' })
})
