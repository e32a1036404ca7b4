// The read cache of the store (src/store/read-cache.ts): what it keeps, and above all what makes
// it forget. A change made by this process shows in the next read; one made by another process
// or at the database's console (an operator at psql or sqlite3) shows within the feed's delay;
// a read that raced a change never keeps the value it read before it.
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import pg from 'pg'
import { createReadCache, type SignedIn } from '../../src/store/read-cache.js'
import { modules } from '../../src/store/index.js'
import { createUsers } from '../../src/store/users.js'
import { createSessions } from '../../src/store/sessions.js'
import { bearer, build, decodeJwt, onPostgres, refresh, register, signedInAdmin, tempDir, token, type App } from '../helper.js'

const summary = (id: string, expiresAt: number) => ({
  id, createdAt: '2026-11-01T00:00:00.000Z', lastUsedAt: '2026-11-01T00:00:00.000Z', expiresAt: new Date(expiresAt).toISOString(), userAgent: null, ip: null
})

function counting<T> (value: () => T) {
  const load = async () => { load.calls++; return value() }
  load.calls = 0
  return load
}

t.test('the cache: kept once the feed hears, forgotten by user, by sessions, or whole', async t => {
  const cache = createReadCache()
  const none: SignedIn = { user: null, session: null }
  const load = counting(() => ({ ...none }))

  await cache.signedIn('u1', 's1', load)
  await cache.signedIn('u1', 's1', load)
  t.equal(load.calls, 2, 'nothing is kept before the feed hears')

  cache.changed({ kind: 'reset', hearing: true })
  const first = await cache.signedIn('u1', 's1', load)
  t.equal(await cache.signedIn('u1', 's1', load), first, 'then the second read is the first one')
  t.equal(load.calls, 3)
  t.ok(Object.isFrozen(first), 'what is kept cannot be changed by whoever reads it')

  const page = counting(() => [])
  await cache.listUsers({ limit: 20 }, page)
  await cache.listUsers({ limit: 20 }, page)
  await cache.listUsers({ limit: 21 }, page)
  t.equal(page.calls, 2, 'a page per filter')

  cache.forgetSessions('u1')
  await cache.signedIn('u1', 's1', load)
  await cache.listUsers({ limit: 20 }, page)
  t.same([load.calls, page.calls], [4, 2], 'a user\'s sessions changed: its reads go, the pages stay')

  cache.forgetUser('u2')
  await cache.signedIn('u1', 's1', load)
  await cache.listUsers({ limit: 20 }, page)
  t.same([load.calls, page.calls], [4, 3], 'another user changed: the pages go, this user\'s reads stay')

  cache.changed({ kind: 'user', id: 'u1' })
  await cache.signedIn('u1', 's1', load)
  t.equal(load.calls, 5, 'a change the feed reports is forgotten like one of this process')

  cache.changed({ kind: 'reset', hearing: false })
  await cache.signedIn('u1', 's1', load)
  await cache.signedIn('u1', 's1', load)
  t.equal(load.calls, 7, 'once the feed cannot hear, nothing is kept')
})

t.test('a read that raced a change returns what it read, and does not keep it', async t => {
  const cache = createReadCache()
  cache.changed({ kind: 'reset', hearing: true })
  let release!: () => void
  const slow = cache.liveSessions('u1', Date.now(), async () => {
    await new Promise<void>(resolve => { release = resolve })
    return [summary('before the change', Date.now() + 60_000)]
  })
  cache.forgetSessions('u1')
  release()
  t.equal((await slow)[0].id, 'before the change')
  const fresh = counting(() => [summary('after', Date.now() + 60_000)])
  t.equal((await cache.liveSessions('u1', Date.now(), fresh))[0].id, 'after', 'the next read goes to the database')
  t.equal(fresh.calls, 1)
})

t.test('a user\'s live sessions are kept until the first of them expires', async t => {
  const cache = createReadCache()
  cache.changed({ kind: 'reset', hearing: true })
  const now = Date.now()
  const load = counting(() => [summary('a', now + 60_000), summary('b', now + 1000)])
  await cache.liveSessions('u1', now, load)
  await cache.liveSessions('u1', now + 999, load)
  t.equal(load.calls, 1)
  await cache.liveSessions('u1', now + 1000, load)
  t.equal(load.calls, 2, 'at b\'s expiry the list is read again')
})

t.test('past its size, the first users kept go first', async t => {
  const cache = createReadCache({ maxUsers: 2, maxPages: 1 })
  cache.changed({ kind: 'reset', hearing: true })
  const load = counting((): SignedIn => ({ user: null, session: null }))
  for (const user of ['u1', 'u2', 'u3', 'u3', 'u2', 'u1']) await cache.signedIn(user, 's', load)
  t.equal(load.calls, 4, 'u1 went to make room for u3, and was read again')
  const page = counting(() => [])
  for (const limit of [1, 2, 2, 1]) await cache.listUsers({ limit }, page)
  t.equal(page.calls, 3)
})

t.test('every method of the users and sessions modules is a read, or tells the cache whose data it wrote', async t => {
  // A method added to either module must be added to one of these lists; a write must also be
  // wrapped in modules() (src/store/index.ts) and tested below.
  const reads = {
    users: ['get', 'byLogin', 'byEmail', 'taken', 'countOthersWithRole', 'list'],
    sessions: ['get', 'live', 'unrevoked', 'any', 'byRefreshToken', 'refreshToken']
  }
  const writes = {
    users: ['create', 'setPasswordHash', 'replacePassword', 'setEmailVerified', 'changeEmail', 'setRoles', 'setDisabled', 'remove'],
    sessions: ['open', 'revoke']
  }
  // Every call on this database answers as a row of user u1 would; each write must say u1.
  const db = new Proxy({}, {
    get: () => new Proxy({}, {
      get: (_, method: string) => async () => method.endsWith('AndReturn') ? [{ userId: 'u1' }] : { id: 'u1', userId: 'u1', roles: [], count: 1 }
    })
  }) as Parameters<typeof createUsers>[0]
  const plain = { users: createUsers(db), sessions: createSessions(db) }
  for (const name of ['users', 'sessions'] as const) {
    t.same(Object.keys(plain[name]).sort(), [...reads[name], ...writes[name]].sort(), `${name}: each method listed once`)
  }
  const calls: Record<string, (tracked: ReturnType<typeof modules>) => Promise<unknown>> = {
    'users.create': m => m.users.create({ username: 'u', email: 'u@example.com', passwordHash: 'h', roles: ['user'] }),
    'users.setPasswordHash': m => m.users.setPasswordHash('u1', 'h'),
    'users.replacePassword': m => m.users.replacePassword('u1', 1, 'h'),
    'users.setEmailVerified': m => m.users.setEmailVerified('u1', true),
    'users.changeEmail': m => m.users.changeEmail('u1', 'new@example.com'),
    'users.setRoles': m => m.users.setRoles('u1', ['user']),
    'users.setDisabled': m => m.users.setDisabled('u1', true),
    'users.remove': m => m.users.remove('u1'),
    'sessions.open': m => m.sessions.open({ userId: 'u1', scope: 'profile', amr: 'pwd', openedAt: new Date(), client: { ip: null, userAgent: null }, expiresAt: new Date(), refreshToken: { hash: 'h', expiresAt: new Date() } }),
    'sessions.revoke': m => m.sessions.revoke(['s1'], new Date())
  }
  t.same(Object.keys(calls).sort(), [...writes.users.map(w => `users.${w}`), ...writes.sessions.map(w => `sessions.${w}`)].sort())
  for (const [name, call] of Object.entries(calls)) {
    const told: string[] = []
    await call(modules(db, { user: id => told.push(`user ${id}`), sessions: id => told.push(`sessions ${id}`) }))
    t.same(told, [name.startsWith('users.') ? 'user u1' : 'sessions u1'], `${name} tells the cache whose data it wrote`)
  }
})

const me = async (app: App, accessToken: string) => {
  const res = await app.inject({ url: '/auth/me', headers: bearer(accessToken) })
  return { status: res.statusCode, body: res.json() }
}
const sessions = async (app: App, accessToken: string) =>
  (await app.inject({ url: '/auth/sessions', headers: bearer(accessToken) })).json().sessions as Array<{ id: string, lastUsedAt: string }>
const userPage = async (app: App, accessToken: string) =>
  (await app.inject({ url: '/admin/users?limit=100', headers: bearer(accessToken) })).json().users as Array<{ id: string, roles: string[], disabled: boolean, emailVerified: boolean, updatedAt: string }>

t.test('what this process writes shows in its next read: each write the cache keeps something of', async t => {
  const app = await build(t)
  const admin = await signedInAdmin(app)
  const user = await register(app)
  const tokens = await token(app, user.username)
  // Filled first, each of them: what follows must not be answered from these.
  t.equal((await me(app, tokens.access_token)).status, 200)
  t.equal((await sessions(app, tokens.access_token)).length, 1)
  t.ok((await userPage(app, admin.tokens.access_token)).some(listed => listed.id === user.id))

  const second = await token(app, user.username)
  t.equal((await sessions(app, tokens.access_token)).length, 2, 'a login (sessions.open)')

  const first = decodeJwt(tokens.access_token).payload.sid as string
  const before = (await sessions(app, tokens.access_token)).find(session => session.id === first)!.lastUsedAt
  await sleep(5)
  const refreshed = await refresh(app, tokens.refresh_token)
  t.equal(refreshed.statusCode, 200)
  const listed = await sessions(app, tokens.access_token)
  t.equal(listed[0].id, first, 'a refresh (the rotation) moves its session to the top...')
  t.ok(listed[0].lastUsedAt > before, '... with its new time')

  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(second.access_token) })).statusCode, 204)
  t.same((await sessions(app, refreshed.json().access_token)).map(session => session.id), [first], 'a logout (sessions.revoke)')

  t.same((await me(app, tokens.access_token)).body.user.roles, ['user'])
  // (A role added leaves the access tokens of the user's sessions valid.)
  const patched = await app.inject({ method: 'PATCH', url: `/admin/users/${user.id}`, headers: bearer(admin.tokens.access_token), payload: { roles: ['user', 'admin'] } })
  t.equal(patched.statusCode, 200)
  t.same((await userPage(app, admin.tokens.access_token)).find(listed => listed.id === user.id)?.roles, ['admin', 'user'], 'a role change (users.setRoles), in the listing')
  t.same((await me(app, tokens.access_token)).body.user.roles, ['admin', 'user'], '... and in /auth/me')
  const again = await token(app, user.username)

  const newcomer = await register(app)
  t.ok((await userPage(app, admin.tokens.access_token)).some(listed => listed.id === newcomer.id), 'a registration (users.create)')

  const updated = async () => (await userPage(app, admin.tokens.access_token)).find(listed => listed.id === user.id)!.updatedAt
  const unchanged = await updated()
  await sleep(5)
  const changed = await app.inject({ method: 'POST', url: '/auth/password', headers: bearer(again.access_token), payload: { currentPassword: user.password, newPassword: 'another horse battery staple' } })
  t.equal(changed.statusCode, 204)
  t.ok(await updated() > unchanged, 'a password change (users.replacePassword), in the listing\'s updatedAt')

  t.equal((await app.inject({ method: 'PATCH', url: `/admin/users/${newcomer.id}`, headers: bearer(admin.tokens.access_token), payload: { disabled: true } })).statusCode, 200)
  t.equal((await userPage(app, admin.tokens.access_token)).find(listed => listed.id === newcomer.id)?.disabled, true, 'a disable (users.setDisabled)')
  t.equal((await app.inject({ method: 'PATCH', url: `/admin/users/${newcomer.id}`, headers: bearer(admin.tokens.access_token), payload: { emailVerified: true } })).statusCode, 200)
  t.equal((await userPage(app, admin.tokens.access_token)).find(listed => listed.id === newcomer.id)?.emailVerified, true, 'an address marked verified (users.setEmailVerified)')
  // users.changeEmail: test/routes/auth/email.test.ts reads /auth/me after a change.

  t.equal((await app.inject({ method: 'DELETE', url: `/admin/users/${newcomer.id}`, headers: bearer(admin.tokens.access_token) })).statusCode, 204)
  t.notOk((await userPage(app, admin.tokens.access_token)).some(listed => listed.id === newcomer.id), 'a deletion (users.remove)')
})

/** Polls `read` until `done` holds of it; fails after 5 s (the feed's delay is a second at most). */
async function eventually<T> (t: Test, read: () => Promise<T>, done: (value: T) => boolean, message: string) {
  const start = Date.now()
  let value = await read()
  while (!done(value)) {
    if (Date.now() - start > 5000) return t.fail(`${message}: not within 5 s`, { found: value })
    await sleep(20)
    value = await read()
  }
  t.pass(message)
}

t.test('what another instance, or an operator at the database\'s console, changes shows here', async t => {
  const dir = tempDir(t)
  const here = await build(t, {}, { dir })
  const there = await build(t, {}, { dir })
  const admin = await signedInAdmin(here)
  const user = await register(here)
  const tokens = await token(here, user.username)
  t.equal((await sessions(here, tokens.access_token)).length, 1)
  t.same((await me(here, tokens.access_token)).body.user.roles, ['user'])
  t.ok((await userPage(here, admin.tokens.access_token)).some(listed => listed.id === user.id))

  await token(there, user.username)
  await eventually(t, () => sessions(here, tokens.access_token), list => list.length === 2, 'a login on the other instance')

  const patched = await there.inject({ method: 'PATCH', url: `/admin/users/${user.id}`, headers: bearer(admin.tokens.access_token), payload: { roles: ['user', 'admin'] } })
  t.equal(patched.statusCode, 200)
  await eventually(t, async () => (await userPage(here, admin.tokens.access_token)).find(listed => listed.id === user.id)?.roles, roles => roles?.length === 2, 'a role change on the other instance, in the listing')

  // Behind both instances' backs: the database's own console.
  const newName = `renamed${process.pid}`
  if (onPostgres) {
    const db = new pg.Client({ connectionString: here.config.DATABASE_URL })
    await db.connect()
    t.teardown(() => db.end())
    await db.query('UPDATE "User" SET username = $1 WHERE id = $2', [newName, user.id])
  } else {
    const db = new Database(here.config.DATABASE_URL.slice('file:'.length))
    t.teardown(() => db.close())
    db.prepare('UPDATE User SET username = ? WHERE id = ?').run(newName, user.id)
  }
  await eventually(t, async () => (await me(here, tokens.access_token)).body.user.username, name => name === newName, 'a change at the console, in /auth/me')
})

t.test('PostgreSQL: a change made while the feed\'s connection was down shows once it is back', { skip: onPostgres ? false : 'PostgreSQL only' }, async t => {
  const dir = tempDir(t)
  const here = await build(t, {}, { dir })
  const user = await register(here)
  const tokens = await token(here, user.username)
  t.same((await me(here, tokens.access_token)).body.user.username, user.username)
  const db = new pg.Client({ connectionString: here.config.DATABASE_URL })
  await db.connect()
  t.teardown(() => db.end())
  // The server ends the listening connection, and the change is made before it is back: its
  // notification goes to no one.
  await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'authd-listen' AND datname = current_database()`)
  await db.query('UPDATE "User" SET username = $1 WHERE id = $2', [`offline${process.pid}`, user.id])
  await eventually(t, async () => (await me(here, tokens.access_token)).body.user.username, name => name === `offline${process.pid}`, 'the change shows')
})
