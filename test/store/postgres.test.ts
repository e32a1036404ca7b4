// PostgreSQL at start and in an outage: the migrations (under their lock, matching the models),
// and what a client sees while the database is away. Runs with TEST_ENGINE=postgres
// (npm run test:postgres).
import t from 'tap'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { migratePostgres } from '../../src/store/postgres-migrate.js'
import { PURGE_LOCK } from '../../src/store/postgres.js'
import { build, signedIn, bearer, register, tempDir, onPostgres } from '../helper.js'
import { adminQuery, postgresDatabase } from '../postgres.js'

// Under the SQLite run, each test reports itself skipped.
const only = { skip: onPostgres ? false : 'PostgreSQL only: npm run test:postgres' }

// Every table's columns, indexes and constraints, as PostgreSQL's catalogue describes them.
const CATALOGUE = `
  SELECT 'column' AS kind, table_name || '.' || column_name AS name,
         concat_ws(' ', data_type, character_maximum_length, datetime_precision, is_nullable, column_default) AS definition
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
  UNION ALL
  SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'
  UNION ALL
  SELECT 'constraint', conrelid::regclass || '.' || conname, pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '"_prisma_migrations"'
  ORDER BY 1, 2`

t.test('a database migrated at start has exactly the schema Prisma\'s engine checked against the models', only, async t => {
  const app = await build(t, {}, { dir: tempDir(t) })
  const live = await app.store.prisma.$queryRawUnsafe<Array<{ kind: string, name: string, definition: string }>>(CATALOGUE)

  // The reference: the same migrations in PGlite, whose diff against schema.prisma is empty
  // (test/store/migrate.test.ts).
  const reference = new PGlite()
  t.teardown(() => reference.close())
  const { rows } = await reference.query<{ kind: string, name: string, definition: string }>(
    (await migrateIntoPglite(reference), CATALOGUE))
  t.ok(live.length > 40, `${live.length} columns, indexes and constraints`)
  t.same(live, rows)
})

async function migrateIntoPglite (db: PGlite) {
  // migratePostgres() speaks to a pg client: PGlite answers the same calls it makes.
  const client = { query: async (sql: string, values?: unknown[]) => values === undefined ? (await db.exec(sql)).at(-1) ?? { rows: [] } : await db.query(sql, values) }
  await migratePostgres(client as unknown as pg.ClientBase)
}

t.test('three instances started at once on an empty database all come up; each migration is applied once', only, async t => {
  const dir = tempDir(t)
  const apps = await Promise.all([0, 1, 2].map(() => build(t, {}, { dir })))
  for (const app of apps) t.equal((await app.inject('/ready')).statusCode, 200)
  const history = await apps[0].store.prisma.$queryRawUnsafe<Array<{ migration_name: string, n: bigint }>>(
    'SELECT migration_name, count(*) AS n FROM "_prisma_migrations" GROUP BY migration_name')
  t.ok(history.length > 0)
  t.ok(history.every(row => Number(row.n) === 1), 'no migration recorded twice')
  const { user, tokens } = await signedIn(apps[0])
  t.equal((await apps[2].inject({ url: '/auth/me', headers: bearer(tokens.access_token) })).json().user.id, user.id, 'one database behind all three')
})

t.test('the database going away: 503 database_unavailable with Retry-After, /ready 503; back by itself when it returns', only, async t => {
  const app = await build(t)
  const { tokens } = await signedIn(app)
  const url = new URL(await postgresDatabase(tempDir(t)))
  const database = decodeURIComponent(app.config.DATABASE_URL.split('/').pop() as string)
  t.not(url.pathname.slice(1), database)

  // The database refuses connections and every one it had is cut, as in a restart.
  await adminQuery(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`)
  t.teardown(() => adminQuery(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`))
  await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database])

  const ready = await app.inject('/ready')
  t.equal(ready.statusCode, 503)
  t.equal(ready.json().error, 'not_ready')
  const login = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: 'nobody', password: 'irrelevant password' } })
  t.equal(login.statusCode, 503, login.body)
  t.equal(login.json().error, 'database_unavailable')
  t.ok(Number(login.headers['retry-after']) > 0)
  const me = await app.inject({ url: '/auth/me', headers: bearer(tokens.access_token) })
  t.equal(me.statusCode, 503)
  t.equal(me.json().error, 'database_unavailable')
  t.notMatch(me.body, /stack|ECONN|at /, 'nothing of the cause')

  await adminQuery(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`)
  t.equal((await app.inject('/ready')).statusCode, 200, 'ready again, without a restart')
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(tokens.access_token) })).statusCode, 200)

  // The connection that listens for other instances' revocations was cut too: it comes back.
  let announced = 0
  t.teardown(app.store.denylist.watch(() => { announced++ }))
  const notifier = new pg.Client({ connectionString: app.config.DATABASE_URL })
  await notifier.connect()
  t.teardown(() => notifier.end())
  const start = Date.now()
  while (announced === 0 && Date.now() - start < 15_000) {
    await notifier.query("SELECT pg_notify('authd_denylist', '')")
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.ok(announced > 0, `listening again ${Date.now() - start} ms after the database came back`)
})

t.test('a denylist write is announced to the other instances when it commits, and not when it rolls back', only, async t => {
  const dir = tempDir(t)
  const [a, b] = [await build(t, {}, { dir }), await build(t, {}, { dir })]
  const { user } = await signedIn(a)
  let announced = 0
  const unwatch = b.store.denylist.watch(() => { announced++ })
  t.teardown(unwatch)
  // (b's listening connection is up since its start: its denylist sync watches too.)
  await new Promise(resolve => setTimeout(resolve, 100))
  announced = 0

  const entry = { kind: 'jti' as const, value: 'rolled-back', expiresAt: Date.now() + 60_000 }
  await t.rejects(a.store.transaction(async tx => { await tx.denylist.add([entry]); throw new Error('undone') }), /undone/)
  await a.store.transaction(async tx => { await tx.audit.record({ type: 'nothing_denied', userId: user.id }) })
  await new Promise(resolve => setTimeout(resolve, 200))
  t.equal(announced, 0, 'nothing announced for a rollback, nor for a transaction that denied nothing')

  const start = Date.now()
  await a.store.transaction(async tx => { await tx.denylist.add([{ ...entry, value: 'committed' }]) })
  while (announced === 0 && Date.now() - start < 5000) await new Promise(resolve => setTimeout(resolve, 2))
  t.equal(announced, 1, `announced after ${Date.now() - start} ms`)
})

t.test('expired rows are purged by one instance at a time: another that finds the purge under way skips its round', only, async t => {
  const app = await build(t)
  const past = new Date(Date.now() - 60_000)
  await app.store.prisma.deniedToken.createMany({ data: Array.from({ length: 5 }, (_, i) => ({ kind: 'jti', value: `old${i}`, expiresAt: past })) })

  // Another instance's purge, holding the purge lock in its transaction.
  const other = new pg.Client({ connectionString: app.config.DATABASE_URL })
  await other.connect()
  t.teardown(() => other.end())
  await other.query('BEGIN')
  t.same((await other.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [PURGE_LOCK])).rows, [{ locked: true }])
  const start = Date.now()
  t.equal(await app.store.denylist.purge(Date.now(), Date.now()), 0, 'skipped')
  t.ok(Date.now() - start < 1000, 'without waiting for the other')
  t.equal(await app.store.prisma.deniedToken.count(), 5)
  await other.query('COMMIT')

  t.equal(await app.store.denylist.purge(Date.now(), Date.now()), 5, 'the next round purges')
  t.equal(await app.store.prisma.deniedToken.count(), 0)
})

t.test('a URL as messages show it: no password, wherever it was', async t => {
  const { withoutPassword } = await import('../../src/store/engine.js')
  t.equal(withoutPassword('postgres://authd:s3cret@db:5432/authd?sslmode=require'), 'postgres://authd@db:5432/authd?sslmode=require')
  t.equal(withoutPassword('postgres://authd:s3c@ret@db/authd'), 'postgres://authd@db/authd')
  t.equal(withoutPassword('postgres://authd@db/authd?password=s3cret&sslpassword=k3y'), 'postgres://authd@db/authd?password=***&sslpassword=***')
  t.notMatch(withoutPassword('postgres://authd:s3c@ret@[db/authd?password=s3cret'), /s3c|ret@/)
})

t.test('two transactions that would each miss the other\'s write (write skew): one runs again, and both end as if one after the other', only, async t => {
  const app = await build(t)
  const [a, b] = [await register(app), await register(app)]
  let runs = 0
  let bothRead!: () => void
  const barrier = new Promise<void>(resolve => { let n = 0; bothRead = () => { if (++n === 2) resolve() } })
  // Each disables the other account if its own is enabled: serially, only one of them can.
  const disableOther = (self: string, other: string) => app.store.transaction(async tx => {
    runs++
    const me = await tx.users.get(self)
    if (runs <= 2) { bothRead(); await barrier }
    if (me?.disabled === false) await tx.users.setDisabled(other, true)
  })
  await Promise.all([disableOther(a.id, b.id), disableOther(b.id, a.id)])
  t.ok(runs > 2, `the loser ran again (${runs} runs)`)
  const disabled = await app.store.prisma.user.count({ where: { id: { in: [a.id, b.id] }, disabled: true } })
  t.equal(disabled, 1, 'exactly one account disabled, as in either serial order')
})
