// The domain without Fastify: accounts, sessions and revocation built from their factories on a
// real SQLite store, with a clock the test moves and a signer of its own. What a route does in
// one request is a call here.
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { createStore } from '../../src/store/index.js'
import { createRevocation } from '../../src/auth/revocation.js'
import { createPasswords } from '../../src/auth/passwords.js'
import { createAccounts, type PasswordAttempt } from '../../src/auth/accounts.js'
import { createMailer } from '../../src/auth/mailer.js'
import { createMailTokens } from '../../src/auth/mail-tokens.js'
import { createSessions, type AccessClaims, type IssuedTokens, type PendingLogin } from '../../src/auth/sessions.js'
import { createSecondFactors } from '../../src/auth/second-factors.js'
import { createChallenges } from '../../src/auth/challenges.js'
import { InvalidCode, InvalidGrant, InvalidMfaToken } from '../../src/errors.js'
import { PASSWORD, tempDir, totpCode, totpStep } from '../helper.js'

const CLIENT = { ip: '192.0.2.1', userAgent: 'test' }
const ANY_ATTEMPT: PasswordAttempt = { take: async () => ({ release () {} }), succeeded () {} }
const config = { ACCESS_TOKEN_TTL: 900, REFRESH_TOKEN_TTL: 3600, SESSION_TTL: 7200, REFRESH_REUSE_GRACE: 10, RATE_LIMIT_REFRESH: 100, REQUIRE_EMAIL_VERIFICATION: false, mfaRequiredScopes: [] }

async function domain (t: Test) {
  const store = createStore(`file:${join(tempDir(t), 'auth.db')}`)
  t.teardown(() => store.close())
  await store.ready()
  let now = Date.parse('2026-11-27T12:00:00Z')
  const clock = { now: () => now, advance: (ms: number) => { now += ms } }
  const passwords = createPasswords({ rounds: 4, threads: 1 })
  t.teardown(() => passwords.close())
  const revocation = createRevocation({ store, accessTokenTtl: config.ACCESS_TOKEN_TTL, now: clock.now })
  // No way to send mail: these tests are about sessions.
  const mailer = createMailer({ store, transport: undefined, secret: 'a-test-secret-of-more-than-thirty-two-bytes', log: { info () {}, warn () {}, error () {} } })
  const mailTokens = createMailTokens({ store, mailer, baseUrl: 'http://localhost', config: { RESET_TOKEN_TTL: 1800, EMAIL_TOKEN_TTL: 86400 } })
  const accounts = createAccounts({ store, passwords, revocation, mailTokens, bcryptRounds: 4 })
  const secondFactors = createSecondFactors({ store, accounts, mailTokens, secret: 'a-test-secret-of-more-than-thirty-two-bytes', issuer: 'authd', now: clock.now })
  const signed: AccessClaims[] = []
  const sessions = createSessions({
    store,
    accounts,
    revocation,
    secondFactors,
    challenges: createChallenges({ store, now: clock.now }),
    sign: claims => { signed.push(claims); return `token-${signed.length}` },
    verify: () => { throw new Error('not a token of this test') },
    config,
    log: { warn () {} },
    now: clock.now
  })
  return { store, clock, accounts, sessions, revocation, secondFactors, signed }
}

t.test('a login, a rotation, a retry inside the grace window, a reuse past it: on the test\'s clock', async t => {
  const { store, clock, accounts, sessions, revocation, signed } = await domain(t)
  const user = await accounts.register({ username: 'ann', email: 'ann@example.com', password: PASSWORD }, { via: 'cli' })

  const login = await sessions.login('ann', PASSWORD, undefined, { ...CLIENT, via: 'api' }, ANY_ATTEMPT) as IssuedTokens
  t.ok(login)
  const first = login!.refreshToken
  t.equal(signed[0].iat, clock.now() / 1000, 'iat from the injected clock')
  t.equal(login!.refreshExpiresIn, config.REFRESH_TOKEN_TTL)

  clock.advance(60_000)
  const rotated = await sessions.refresh(first, undefined, CLIENT)
  t.not(rotated.refreshToken, first)
  t.equal(rotated.session.lastUsedAt.getTime(), clock.now(), 'used now, by the clock')

  clock.advance(config.REFRESH_REUSE_GRACE * 1000)
  t.equal((await sessions.refresh(first, undefined, CLIENT)).refreshToken, rotated.refreshToken, 'a retry on the last millisecond of the grace: the same successor')

  clock.advance(1)
  await t.rejects(sessions.refresh(first, undefined, CLIENT), InvalidGrant, 'one millisecond later: a reuse')
  const session = await store.sessions.get(login!.session.id)
  t.equal(session?.revokedAt?.getTime(), clock.now(), 'the session ended at that instant')
  t.ok(revocation.isRevoked('any', login!.session.id, clock.now() / 1000), 'its access tokens refused in this process at once')
  await t.rejects(sessions.refresh(rotated.refreshToken, undefined, CLIENT), InvalidGrant, 'and the successor died with it')

  const events = await store.audit.list({ limit: 10, userId: user.id })
  t.same(events.map(event => event.type).reverse(), ['user_created', 'login_succeeded', 'refresh_reuse_detected'])
  t.same(events[events.length - 1].detail, { via: 'cli', roles: ['user'] })
})

t.test('a session\'s last refresh token and access token end with the session, not after it', async t => {
  const { clock, accounts, sessions } = await domain(t)
  await accounts.register({ username: 'bob', email: 'bob@example.com', password: PASSWORD }, { via: 'cli' })
  const login = await sessions.login('bob', PASSWORD, ['profile'], { ...CLIENT, via: 'api' }, ANY_ATTEMPT) as IssuedTokens

  // Refreshed before each refresh token expires, the session reaches its last ten minutes.
  clock.advance(3599_000)
  const kept = await sessions.refresh(login!.refreshToken, undefined, CLIENT)
  t.equal(kept.refreshExpiresIn, config.REFRESH_TOKEN_TTL, 'a full refresh-token life while the session has more')
  clock.advance((config.SESSION_TTL - 600 - 3599) * 1000)
  const late = await sessions.refresh(kept.refreshToken, undefined, CLIENT)
  t.equal(late.expiresIn, 600, 'the access token lives only as long as the session has left')
  t.equal(late.refreshExpiresIn, 600, 'and so does the refresh token')

  clock.advance(600_000)
  await t.rejects(sessions.refresh(late.refreshToken, undefined, CLIENT), InvalidGrant, 'the session is over')
})

// TOTP on the test's clock: a user with an authenticator app, a login that waits for its code.
async function withTotp (t: Test) {
  const parts = await domain(t)
  const { accounts, secondFactors, clock } = parts
  const user = await accounts.register({ username: 'tia', email: 'tia@example.com', password: PASSWORD }, { via: 'cli' })
  const { secret } = await secondFactors.startTotp(user.id)
  const recoveryCodes = await secondFactors.confirmTotp({ id: user.id, sessionId: 'setup', ...CLIENT }, totpCode(secret, totpStep(clock.now())))
  // Past the step the confirmation used.
  clock.advance(90_000)
  const login = async () => await parts.sessions.login('tia', PASSWORD, undefined, { ...CLIENT, via: 'api' }, ANY_ATTEMPT) as PendingLogin
  const code = (steps: number) => totpCode(secret, totpStep(clock.now()) + steps)
  return { ...parts, user, secret, recoveryCodes, login, code }
}

t.test('a login with TOTP on waits for a code; one step of drift either side is taken, two are not', async t => {
  const { sessions, login, code, signed, clock } = await withTotp(t)
  const pending = await login()
  t.same(pending.methods, ['totp', 'recovery_code'])
  t.equal(signed.length, 0, 'no token signed before the second factor')

  for (const steps of [-2, 2]) {
    await t.rejects(sessions.secondFactor(pending.mfaToken, code(steps), { ...CLIENT, via: 'api' }, ANY_ATTEMPT), InvalidCode, `${steps} steps off: refused`)
  }
  const issued = await sessions.secondFactor(pending.mfaToken, code(-1), { ...CLIENT, via: 'api' }, ANY_ATTEMPT)
  t.same(signed[0].amr, ['pwd', 'otp', 'mfa'])
  t.equal(signed[0].auth_time, Math.floor(clock.now() / 1000), 'auth_time: when the session opened')
  t.equal(issued.session.amr, 'pwd otp mfa')

  await t.rejects(sessions.secondFactor(pending.mfaToken, code(0), { ...CLIENT, via: 'api' }, ANY_ATTEMPT), InvalidMfaToken, 'the mfa_token worked once')

  const next = await login()
  await sessions.secondFactor(next.mfaToken, code(1), { ...CLIENT, via: 'api' }, ANY_ATTEMPT)
  t.equal(signed.length, 2, '+1 step: taken')
})

t.test('a TOTP code is taken once, and no code of an earlier step after it', async t => {
  const { sessions, login, code } = await withTotp(t)
  const used = code(0)
  await sessions.secondFactor((await login()).mfaToken, used, { ...CLIENT, via: 'api' }, ANY_ATTEMPT)
  await t.rejects(sessions.secondFactor((await login()).mfaToken, used, { ...CLIENT, via: 'api' }, ANY_ATTEMPT), InvalidCode, 'the same code again: a replay')
  await t.rejects(sessions.secondFactor((await login()).mfaToken, code(-1), { ...CLIENT, via: 'api' }, ANY_ATTEMPT), InvalidCode, 'the step before it: also spent')
  await sessions.secondFactor((await login()).mfaToken, code(1), { ...CLIENT, via: 'api' }, ANY_ATTEMPT)
})

t.test('a recovery code works once, in any case and with or without its dashes', async t => {
  const { sessions, login, recoveryCodes, store, user } = await withTotp(t)
  t.equal(recoveryCodes.length, 10)
  t.equal(new Set(recoveryCodes).size, 10)
  const [first, second] = recoveryCodes
  await sessions.secondFactor((await login()).mfaToken, first.toUpperCase().replaceAll('-', ''), { ...CLIENT, via: 'api' }, ANY_ATTEMPT)
  await t.rejects(sessions.secondFactor((await login()).mfaToken, first, { ...CLIENT, via: 'api' }, ANY_ATTEMPT), InvalidCode, 'used')
  await sessions.secondFactor((await login()).mfaToken, ` ${second} `, { ...CLIENT, via: 'api' }, ANY_ATTEMPT)
  t.equal(await store.secondFactors.recoveryCodes.left(user.id), 8)
  const types = (await store.audit.list({ limit: 50, userId: user.id })).map(e => e.type)
  t.equal(types.filter(type => type === 'mfa_recovery_code_used').length, 2)
  t.equal(types.filter(type => type === 'mfa_failed').length, 1)
})

t.test('five wrong codes end the pending login; it also ends with its lifetime', async t => {
  const { sessions, login, code, clock } = await withTotp(t)
  const pending = await login()
  for (let i = 0; i < 5; i++) await t.rejects(sessions.secondFactor(pending.mfaToken, '000000', { ...CLIENT, via: 'api' }, ANY_ATTEMPT), InvalidCode)
  await t.rejects(sessions.secondFactor(pending.mfaToken, code(0), { ...CLIENT, via: 'api' }, ANY_ATTEMPT), InvalidMfaToken, 'then even the right code is too late')

  const slow = await login()
  clock.advance(slow.expiresIn * 1000)
  await t.rejects(sessions.secondFactor(slow.mfaToken, code(0), { ...CLIENT, via: 'api' }, ANY_ATTEMPT), InvalidMfaToken, 'expired')
})

t.test('a password changed between the two steps voids the pending login', async t => {
  const { sessions, login, code, accounts, user } = await withTotp(t)
  const pending = await login()
  await accounts.changePassword({ id: user.id, sessionId: 'elsewhere' }, PASSWORD, `${PASSWORD} 2`, ANY_ATTEMPT, CLIENT)
  await t.rejects(sessions.secondFactor(pending.mfaToken, code(0), { ...CLIENT, via: 'api' }, ANY_ATTEMPT), InvalidMfaToken)
})
