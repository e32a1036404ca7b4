import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import Database from 'better-sqlite3'
import pg from 'pg'
import { buildApp } from '../../../src/app.js'
import { loadConfig } from '../../../src/config.js'
import { build, onPostgres, register, tempDir, testEnv } from '../../helper.js'
import { postgresDatabase } from '../../postgres.js'

const migrations = readdirSync(new URL(onPostgres ? '../../../prisma/postgres/migrations/' : '../../../prisma/migrations/', import.meta.url), { withFileTypes: true })
  .filter(entry => entry.isDirectory()).map(entry => entry.name).sort()

t.test('start creates the folder and the database, applies every migration, and sets the pragmas', async t => {
  const dir = join(tempDir(t), 'nested', 'folder')
  const app = await build(t, {}, { dir })
  if (!onPostgres) t.ok(existsSync(join(dir, 'auth.db')))

  const applied = await app.store.prisma.$queryRawUnsafe<Array<{ migration_name: string, finished_at: unknown, rolled_back_at: unknown }>>(
    'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name')
  t.same(applied.map(m => m.migration_name), migrations, 'the same history prisma migrate deploy writes')
  t.ok(applied.every(m => m.finished_at !== null && m.rolled_back_at === null))
  if (onPostgres) return

  const pragma = async (name: string) => Object.values((await app.store.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(`PRAGMA ${name}`))[0])[0]
  t.equal(await pragma('journal_mode'), 'wal')
  t.equal(Number(await pragma('busy_timeout')), 5000)
  t.equal(Number(await pragma('synchronous')), 2, 'FULL')
  t.equal(Number(await pragma('foreign_keys')), 1)
  t.equal(await pragma('integrity_check'), 'ok')
})

t.test('a restart on the same file keeps the data and applies nothing twice', async t => {
  const dir = tempDir(t)
  const first = await build(t, {}, { dir })
  const user = await register(first)
  await first.close()

  const logs: string[] = []
  const logStream = new Writable({ write (chunk, _enc, done) { logs.push(String(chunk)); done() } })
  const second = await build(t, { LOG_LEVEL: 'info' }, { dir, logStream })
  t.notOk(logs.some(line => line.includes('database migrated')), 'nothing was migrated')
  t.equal((await second.store.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).username, user.username)
  const count = await second.store.prisma.$queryRawUnsafe<Array<{ n: bigint }>>('SELECT count(*) AS n FROM _prisma_migrations')
  t.equal(Number(count[0].n), migrations.length)
})

t.test('foreign keys cascade: deleting a user removes its roles and sessions', async t => {
  const app = await build(t)
  const user = await register(app)
  await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: user.password } })
  t.equal(await app.store.prisma.session.count({ where: { userId: user.id } }), 1)
  await app.store.prisma.user.delete({ where: { id: user.id } })
  t.equal(await app.store.prisma.session.count(), 0)
  t.equal(await app.store.prisma.userRole.count(), 0)
})

t.test('a second instance starts beside a running one on the same file', async t => {
  const dir = tempDir(t)
  const first = await build(t, {}, { dir })
  const second = await build(t, {}, { dir })
  const user = await register(first)
  t.equal((await second.store.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).username, user.username)
  t.equal((await second.inject('/ready')).statusCode, 200)
})

t.test('SQLite: a database of something else stops the start, and nothing is written to it', { skip: onPostgres && 'SQLite only' }, async t => {
  // A table the first migration creates, already there without the migrations' history.
  const dir = tempDir(t)
  const db = new Database(join(dir, 'auth.db'))
  db.exec('CREATE TABLE "User" (id TEXT)')
  db.close()
  const app = buildApp(loadConfig(testEnv(dir)))
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.ready() }, /^could not migrate file:.*auth\.db: the database is not empty \(User\) and has no migration history/)
  const after = new Database(join(dir, 'auth.db'), { readonly: true })
  t.teardown(() => after.close())
  t.same(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all(), ['User'], 'nothing else was written')
})

t.test('PostgreSQL: a migration that fails stops the start, names the database without its password, and writes nothing', { skip: !onPostgres && 'PostgreSQL only' }, async t => {
  const url = new URL(await postgresDatabase(tempDir(t)))
  const database = url.pathname.slice(1)
  // A table the first migration creates, already there without the migrations' history.
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  await client.query('CREATE TABLE "User" (id TEXT)')
  url.password = 'hunter2-secret'
  const app = buildApp(loadConfig(testEnv(tempDir(t), { DATABASE_URL: url.toString() })))
  t.teardown(() => app.close())
  const err = await app.ready().then(() => undefined, (e: Error) => e)
  t.equal(err?.name, 'DatabaseStartError')
  t.match(err?.message, new RegExp(`^DATABASE_URL: could not migrate the PostgreSQL database at postgres://postgres@[^ ]+/${database}: migration \\w+ failed: relation "User" already exists$`))
  t.notMatch(err?.message, /hunter2/, 'the password stays out of the message')
  const { rows } = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
  t.same(rows.map(r => r.tablename), ['User', '_prisma_migrations'], 'the failed migration was rolled back whole')
  t.equal((await client.query('SELECT count(*)::int AS n FROM _prisma_migrations')).rows[0].n, 0)
  await client.end()
})
