import t, { type Test } from 'tap'
import bcrypt from 'bcryptjs'
import { bearer, build, decodeJwt, PASSWORD, refresh, signedIn, statusWith, token, type App } from '../../helper.js'

const change = (app: App, accessToken: string, payload: unknown) =>
  app.inject({ method: 'POST', url: '/auth/password', headers: bearer(accessToken), payload: payload as object })

t.test('a password change keeps this session and ends every other one', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const other = await token(app, user.username)
  const newPassword = 'a brand new passphrase'

  const res = await change(app, tokens.access_token, { currentPassword: PASSWORD, newPassword })
  t.equal(res.statusCode, 204)
  t.equal(await statusWith(app, other.access_token), 401, 'the other session\'s access token is refused at once')
  t.equal((await refresh(app, other.refresh_token)).statusCode, 400)
  t.equal(await statusWith(app, tokens.access_token), 200, 'this one goes on')
  t.equal((await refresh(app, tokens.refresh_token)).statusCode, 200)

  const old = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })
  t.equal(old.json().error, 'invalid_grant', 'the old password no longer logs in')
  t.equal((await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: newPassword } })).statusCode, 200)
})

t.test('a wrong current password or a bad new one changes nothing', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const other = await token(app, user.username)
  const hash = (await app.store.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash

  const wrong = await change(app, tokens.access_token, { currentPassword: 'not my password', newPassword: 'whatever it is now' })
  t.equal(wrong.statusCode, 400)
  t.same(wrong.json(), { error: 'wrong_password', message: 'The current password is wrong' })
  const tooLong = await change(app, tokens.access_token, { currentPassword: PASSWORD, newPassword: 'x'.repeat(73) })
  t.equal(tooLong.json().error, 'invalid_password')
  const tooShort = await change(app, tokens.access_token, { currentPassword: PASSWORD, newPassword: 'short' })
  t.equal(tooShort.json().error, 'invalid_password')
  const extra = await change(app, tokens.access_token, { currentPassword: PASSWORD, newPassword: 'long enough one', user: 'x' })
  t.equal(extra.json().error, 'invalid_request')

  t.equal((await app.store.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash, hash)
  t.equal(await statusWith(app, other.access_token), 200, 'no session ended')
  t.equal((await app.inject({ method: 'POST', url: '/auth/password', payload: { currentPassword: PASSWORD, newPassword: 'long enough one' } })).statusCode, 401)
})

// Holds the next bcrypt comparison of `password` until release(): a login whose comparison is
// in flight while something else happens.
function holdComparison (app: App, password: string) {
  let release!: () => void
  const released = new Promise<void>(resolve => { release = resolve })
  let reached!: () => void
  const started = new Promise<void>(resolve => { reached = resolve })
  const verify = app.passwords.verify
  let held = false
  app.passwords.verify = async (given, hash) => {
    const result = await verify(given, hash)
    if (!held && given === password) {
      held = true
      reached()
      await released
    }
    return result
  }
  return { started, release }
}

/**
 * A password-grant login with the old password whose bcrypt has said yes, held there while the
 * password changes to `newPassword` (the change's own comparison is not held); its answer.
 */
async function loginAcrossChange (t: Test, app: App, username: string, accessToken: string, newPassword: string) {
  const held = holdComparison(app, PASSWORD)
  const racing = app.inject({ method: 'POST', url: '/auth/token', payload: { username, password: PASSWORD } })
  await held.started
  t.equal((await change(app, accessToken, { currentPassword: PASSWORD, newPassword })).statusCode, 204)
  held.release()
  return await racing
}

t.test('a login checked against the old password while it changes opens no session', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const login = await loginAcrossChange(t, app, user.username, tokens.access_token, 'a brand new passphrase')
  t.equal(login.statusCode, 400)
  t.equal(login.json().error, 'invalid_grant')
  const live = await app.store.prisma.session.findMany({ where: { userId: user.id, revokedAt: null } })
  t.same(live.map(session => session.id), [decodeJwt(tokens.access_token).payload.sid], 'only the session that changed it lives')
  const listed = await app.inject({ url: '/auth/sessions', headers: bearer(tokens.access_token) })
  t.equal(listed.json().sessions.length, 1)
})

t.test('a hash upgrade in flight cannot write the old password back over a new one', async t => {
  // The account's hash is at cost 4; the service now wants 5: the next login rehashes it.
  const app = await build(t, { BCRYPT_ROUNDS: '5' })
  const { user, tokens } = await signedIn(app)
  const hash = await bcrypt.hash(PASSWORD, 4)
  await app.store.prisma.user.update({ where: { id: user.id }, data: { passwordHash: hash } })
  const newPassword = 'a brand new passphrase'
  t.equal((await loginAcrossChange(t, app, user.username, tokens.access_token, newPassword)).statusCode, 400)
  const stored = (await app.store.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash
  t.ok(await bcrypt.compare(newPassword, stored), 'the new password is what is stored')
  t.equal((await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })).statusCode, 400, 'the old one does not log in')

  // Without a change in between, the upgrade is written with the session.
  const after = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: newPassword } })
  t.equal(after.statusCode, 200)
})

t.test('two changes at once from the same current password: one wins, the other is told it is wrong', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const [a, b] = await Promise.all([
    change(app, tokens.access_token, { currentPassword: PASSWORD, newPassword: 'first new passphrase' }),
    change(app, tokens.access_token, { currentPassword: PASSWORD, newPassword: 'second new passphrase' })
  ])
  t.same([a.statusCode, b.statusCode].sort(), [204, 400])
  const winner = a.statusCode === 204 ? 'first new passphrase' : 'second new passphrase'
  t.ok(await bcrypt.compare(winner, (await app.store.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash), 'the one answered 204 is stored')
  t.equal((await app.store.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordVersion, 1)
})
