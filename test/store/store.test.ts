// The store's two implementations of its hot reads: the portable one, on Prisma (what runs
// inside transactions, and on any engine), and SQLite's prepared statements. Both must answer
// alike, for every filter; a third engine's implementation belongs here too.
import t from 'tap'
import { createUsers } from '../../src/store/users.js'
import { createSessions } from '../../src/store/sessions.js'
import { build, newUser, register, token, type App } from '../helper.js'

async function seeded (t: Parameters<typeof build>[0]) {
  const app = await build(t)
  const ids: string[] = []
  for (let i = 0; i < 7; i++) ids.push((await register(app, newUser({ username: `store_${i % 2 === 0 ? 'even' : 'odd'}_${i}`, email: `s${i}_x@example.com` }))).id)
  // Equal creation times, so that the keyset's second column (the id) decides.
  const at = new Date('2026-11-01T00:00:00Z')
  await app.store.prisma.user.updateMany({ where: { id: { in: ids.slice(2, 5) } }, data: { createdAt: at } })
  await app.store.prisma.userRole.create({ data: { userId: ids[1], role: 'admin' } })
  await app.store.prisma.user.update({ where: { id: ids[3] }, data: { disabled: true } })
  return { app, ids }
}

const portable = (app: App) => ({ users: createUsers(app.store.prisma), sessions: createSessions(app.store.prisma) })

t.test('a user by id: with its roles, sorted, and its times', async t => {
  const { app, ids } = await seeded(t)
  for (const id of [ids[0], ids[1], 'no-such-id']) {
    t.same(await app.store.users.get(id), await portable(app).users.get(id), id)
  }
  t.same((await app.store.users.get(ids[1]))?.roles, ['admin', 'user'])
})

t.test('pages of users: every combination of filters, and the keyset across equal times', async t => {
  const { app, ids } = await seeded(t)
  const tie = await app.store.users.get(ids[2])
  const filters = [
    {},
    { usernamePrefix: 'store_even' },
    { usernamePrefix: 'STORE_ODD' },
    { emailPrefix: 's1_' },
    { usernamePrefix: 'store_', emailPrefix: 's' },
    { role: 'admin' },
    { role: 'user', disabled: false },
    { disabled: true },
    { after: { createdAt: tie!.createdAt, id: tie!.id } },
    { after: { createdAt: tie!.createdAt, id: tie!.id }, usernamePrefix: 'store_odd', role: 'user' },
    { usernamePrefix: 'st_%' }
  ]
  for (const filter of filters) {
    for (const limit of [1, 3, 100]) {
      const fast = await app.store.users.list({ limit, ...filter })
      t.same(fast, await portable(app).users.list({ limit, ...filter }), `${JSON.stringify(filter)}, limit ${limit}`)
    }
  }
  t.equal((await app.store.users.list({ limit: 100, usernamePrefix: 'st_%' })).length, 0, '_ and % are not wildcards')
  t.notOk('passwordHash' in (await app.store.users.list({ limit: 1 }))[0], 'a listing carries no password hash')
})

t.test('a user\'s live sessions: the same ones, most recently used first', async t => {
  const app = await build(t)
  const user = await register(app)
  for (let i = 0; i < 4; i++) await token(app, user.username)
  const sessions = await app.store.prisma.session.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } })
  await app.store.prisma.session.update({ where: { id: sessions[0].id }, data: { lastUsedAt: new Date(Date.now() + 60_000) } })
  await app.store.prisma.session.update({ where: { id: sessions[1].id }, data: { revokedAt: new Date() } })
  await app.store.prisma.session.update({ where: { id: sessions[2].id }, data: { expiresAt: new Date(Date.now() - 1) } })
  const now = Date.now()
  const live = await app.store.sessions.live(user.id, now)
  t.same(live, await portable(app).sessions.live(user.id, now))
  t.same(live.map(session => session.id), [sessions[0].id, sessions[3].id])
  t.match(live[0], { createdAt: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ }, 'times as ISO 8601 in UTC')
  for (const session of sessions) {
    t.same(await app.store.sessions.userAndSession(user.id, session.id),
      { user: await portable(app).users.get(user.id), session: await portable(app).sessions.get(session.id) }, 'a user and a session, read together')
  }
  t.same(await app.store.sessions.userAndSession('no-such-user', 'no-such-session'), { user: null, session: null })
})
