// Prisma's better-sqlite3 adapter shares one connection between transactions and everything
// else. These tests show what that would cost and that src/store/adapter.ts prevents it.
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { build, tempDir, type App } from '../helper.js'

t.test('a write made while another request\'s transaction is open survives that transaction\'s rollback', async t => {
  const app = await build(t)
  const { prisma } = app.store
  const rolledBack = prisma.$transaction(async tx => {
    await tx.user.create({ data: { username: 'in-tx', email: 'in-tx@example.com', passwordHash: 'x' } })
    await sleep(50)
    throw new Error('roll back')
  }).catch((err: Error) => err.message)

  await sleep(10)
  // Another request, outside the transaction, while it is open:
  await prisma.user.create({ data: { username: 'outside', email: 'outside@example.com', passwordHash: 'x' } })
  t.equal(await rolledBack, 'roll back')
  t.same((await prisma.user.findMany({ select: { username: true } })).map(u => u.username), ['outside'],
    'the acknowledged write outside the transaction is kept; the transaction\'s own is rolled back')
})

t.test('transactions begin IMMEDIATE: another process cannot write between their read and their write', async t => {
  const dir = tempDir(t)
  const app = await build(t, {}, { dir })
  const other = new Database(join(dir, 'auth.db'), { timeout: 100 })
  t.teardown(() => other.close())
  const insert = other.prepare("INSERT INTO User (id, username, email, passwordHash, updatedAt) VALUES (?, ?, ?, 'x', 0)")

  const result = app.store.prisma.$transaction(async tx => {
    const before = await tx.user.count()
    await sleep(50)
    await tx.user.create({ data: { username: 'txn', email: 'txn@example.com', passwordHash: 'x' } })
    return before
  })
  await sleep(10)
  // With a deferred BEGIN this write would succeed, and the transaction's own write would then
  // fail with SQLITE_BUSY_SNAPSHOT however long the busy timeout.
  t.throws(() => insert.run('other', 'other', 'other@example.com'), { code: 'SQLITE_BUSY' })
  t.equal(await result, 0)
  t.same((await app.store.prisma.user.findMany()).map(u => u.username), ['txn'])
  insert.run('other', 'other', 'other@example.com')
  t.equal(await app.store.prisma.user.count(), 2, 'once it commits, the other process writes as usual')
})

t.test('a transaction that cannot begin (the lock held past the busy timeout) leaves the connection usable', async t => {
  const dir = tempDir(t)
  const app = await build(t, {}, { dir })
  const other = new Database(join(dir, 'auth.db'))
  t.teardown(() => other.close())
  other.exec('BEGIN IMMEDIATE')
  // Waits out the 5 s busy timeout (synchronously, in better-sqlite3), then fails.
  await t.rejects(app.store.prisma.$transaction(async tx => tx.user.count()))
  other.exec('ROLLBACK')
  t.equal(await app.store.prisma.user.count(), 0, 'queries after it run')
  t.equal(await app.store.prisma.$transaction(async tx => tx.user.count()), 0, 'and so do transactions')
  t.equal((await app.inject('/ready')).statusCode, 200)
})

/** The SQLite store's raw connection (this file runs on SQLite only). */
function sqlite (app: App) {
  const { connection } = app.store
  if (connection === undefined) throw new Error('not a SQLite store')
  return connection
}

// Group commit (sqlite(app).immediate): the hot-path writes of one turn of the event loop share
// one transaction, each in its own savepoint.
const insertUser = (username: string) => (db: Database.Database) =>
  db.prepare("INSERT INTO User (id, username, email, passwordHash, updatedAt) VALUES (?, ?, ?, 'x', '2026-01-01T00:00:00.000+00:00')")
    .run(username, username, `${username}@example.com`).changes

t.test('works queued together commit together; one that throws takes only its own writes back', async t => {
  const dir = tempDir(t)
  const app = await build(t, {}, { dir })
  const other = new Database(join(dir, 'auth.db'), { readonly: true })
  t.teardown(() => other.close())
  const committed = () => other.prepare('SELECT username FROM User ORDER BY username').pluck().all()
  let seenByThird: unknown[] = []
  const results = await Promise.allSettled([
    sqlite(app).immediate(insertUser('first')),
    sqlite(app).immediate(db => { insertUser('second')(db); throw new Error('second fails after writing') }),
    sqlite(app).immediate(db => { seenByThird = committed(); return insertUser('third')(db) }),
    // A constraint error from SQLite itself is a work's own error too.
    sqlite(app).immediate(db => insertUser('first')(db))
  ])
  t.same(results.map(r => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected'])
  t.equal((results[1] as PromiseRejectedResult).reason.message, 'second fails after writing')
  t.match((results[3] as PromiseRejectedResult).reason.code, /^SQLITE_CONSTRAINT/)
  t.same(seenByThird, [], 'the first work was not committed on its own: one transaction for all')
  // Read by another connection: what was acknowledged is on disk, and nothing else.
  t.same(committed(), ['first', 'third'])
})

t.test('when the shared transaction cannot begin, every work in it fails and none is acknowledged', async t => {
  const dir = tempDir(t)
  const app = await build(t, {}, { dir })
  const other = new Database(join(dir, 'auth.db'))
  t.teardown(() => other.close())
  other.exec('BEGIN IMMEDIATE')
  const results = await Promise.allSettled([sqlite(app).immediate(insertUser('a')), sqlite(app).immediate(insertUser('b'))])
  other.exec('ROLLBACK')
  t.same(results.map(r => r.status), ['rejected', 'rejected'])
  t.equal((results[0] as PromiseRejectedResult).reason.code, 'SQLITE_BUSY')
  t.equal(other.prepare('SELECT count(*) FROM User').pluck().get(), 0)
  t.equal(await sqlite(app).immediate(insertUser('later')), 1, 'the connection is usable afterwards')
})

// A Prisma transaction that writes a user, stays open until released, then rolls back.
async function openTransaction (app: App) {
  let release!: () => void
  const open = app.store.prisma.$transaction(async tx => {
    await tx.user.create({ data: { username: 'in-tx', email: 'in-tx@example.com', passwordHash: 'x' } })
    await new Promise<void>(resolve => { release = resolve })
    throw new Error('roll back')
  }).catch((err: Error) => err.message)
  await sleep(20)
  return { open, release: () => release() }
}

t.test('a work waits for an open Prisma transaction rather than joining it', async t => {
  const app = await build(t)
  const { open, release } = await openTransaction(app)
  const work = sqlite(app).immediate(insertUser('raw'))
  await sleep(20)
  release()
  t.equal(await open, 'roll back')
  t.equal(await work, 1)
  t.same((await app.store.prisma.user.findMany({ select: { username: true } })).map(u => u.username), ['raw'],
    'the raw write is not lost with the rollback')
})

t.test('a raw read waits for an open Prisma transaction and never sees its uncommitted rows', async t => {
  const app = await build(t)
  const { open, release } = await openTransaction(app)
  let done = false
  const read = sqlite(app).read(db => db.prepare('SELECT username FROM User').pluck().all()).finally(() => { done = true })
  await sleep(20)
  t.equal(done, false, 'the read waits while the transaction is open')
  release()
  t.equal(await open, 'roll back')
  t.same(await read, [], 'and does not see the rolled-back row')
})

t.test('after $disconnect() raw work connects anew, as Prisma\'s next query would', async t => {
  const app = await build(t)
  await app.store.prisma.$disconnect()
  t.equal(await sqlite(app).immediate(insertUser('after')), 1)
  t.same(await sqlite(app).read(db => db.prepare('SELECT username FROM User').pluck().all()), ['after'])
  await app.store.prisma.$disconnect()
  await t.resolves(app.revocation.sync(), 'the denylist sync too')
})
