// npm run db:copy: a SQLite deployment moves to PostgreSQL without logging anyone out. Runs the
// built CLI as a process, then the service on the copy. TEST_ENGINE=postgres (npm run test:postgres).
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { bearer, build, enableTotp, formPost, nextCode, onPostgres, PASSWORD, refresh, register, statusWith, tempDir, testEnv, token, type App } from '../helper.js'
import { MFA_OTP_GRANT } from '../../src/schemas/mfa.js'

const only = { skip: onPostgres ? false : 'PostgreSQL only: npm run test:postgres' }
const cli = new URL('../../dist/cli/db-copy.js', import.meta.url).pathname
const run = promisify(execFile)

async function copy (from: string, to: string) {
  return await run(process.execPath, [cli, '--from', from, '--to', to], { env: { PATH: process.env.PATH } })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (err: { code: number, stdout: string, stderr: string }) => err)
}

async function counts (app: App) {
  const p = app.store.prisma
  return {
    users: await p.user.count(),
    roles: await p.userRole.count(),
    sessions: await p.session.count(),
    refreshTokens: await p.refreshToken.count(),
    denied: await p.deniedToken.count(),
    audit: await p.auditEvent.count(),
    totp: await p.totpFactor.count(),
    recoveryCodes: await p.recoveryCode.count()
  }
}

t.test('every row moves; sessions, refresh tokens and revocations carry over; a second copy is refused', only, async t => {
  // The SQLite deployment, with some history.
  const sqliteDir = tempDir(t)
  const sqlite = buildApp(loadConfig(testEnv(sqliteDir, { REFRESH_REUSE_GRACE: '0' })))
  await sqlite.ready()
  const alice = await register(sqlite)
  const bob = await register(sqlite)
  const loggedOut = await token(sqlite, alice.username)
  await sqlite.inject({ method: 'POST', url: '/auth/logout', headers: bearer(loggedOut.access_token) })
  const first = await token(sqlite, alice.username)
  const rotated = (await refresh(sqlite, first.refresh_token)).json()
  const bobs = await token(sqlite, bob.username)
  await sqlite.inject({ method: 'POST', url: '/auth/revoke', payload: { token: bobs.access_token } })
  const carol = await register(sqlite)
  const carolsTotp = await enableTotp(sqlite, (await token(sqlite, carol.username)).access_token)
  const before = await counts(sqlite)
  const lastAudit = (await sqlite.store.prisma.auditEvent.aggregate({ _max: { seq: true } }))._max.seq
  await sqlite.close()

  const pgDir = tempDir(t)
  const { postgresDatabase } = await import('../postgres.js')
  const url = new URL(await postgresDatabase(pgDir))
  url.password = 'not-shown-anywhere'
  const copied = await copy(`file:${join(sqliteDir, 'auth.db')}`, url.toString())
  t.equal(copied.code, 0, copied.stderr)
  t.match(copied.stdout, /^User: 3 rows$/m)
  t.notMatch(copied.stdout + copied.stderr, /not-shown-anywhere/)

  const app = await build(t, { REFRESH_REUSE_GRACE: '0' }, { dir: pgDir })
  t.same(await counts(app), before, 'every table holds what SQLite held')
  t.equal(await statusWith(app, rotated.access_token, '/auth/me'), 200, 'a live access token still works')
  t.equal(await statusWith(app, loggedOut.access_token, '/auth/me'), 401, 'a logged-out session stays refused')
  t.equal(await statusWith(app, bobs.access_token, '/auth/me'), 401, 'a revoked access token stays refused')
  const next = await refresh(app, rotated.refresh_token)
  t.equal(next.statusCode, 200, 'the live refresh token rotates on PostgreSQL')
  t.equal((await refresh(app, first.refresh_token)).json().error, 'invalid_grant', 'a used one is still a reuse')
  const pending = await formPost(app, '/auth/token', { username: carol.username, password: PASSWORD })
  t.equal(pending.json().error, 'mfa_required', 'a second factor moves with its user')
  const withCode = await formPost(app, '/auth/token', { grant_type: MFA_OTP_GRANT, mfa_token: pending.json().mfa_token, otp: nextCode(carolsTotp) })
  t.equal(withCode.statusCode, 200, 'and its secret still opens')

  // The sequences go on past the copied rows.
  await token(app, bob.username)
  const newest = await app.store.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: 'desc' } })
  t.ok(newest.seq > (lastAudit ?? 0), `new audit events follow the copied ones (${newest.seq} > ${lastAudit})`)

  const again = await copy(`file:${join(sqliteDir, 'auth.db')}`, url.toString())
  t.equal(again.code, 1)
  t.match(again.stderr, /^db:copy: postgres:\/\/postgres@[^ ]+ is not empty \(User has \d+ rows\): copy into an empty database only\n$/)
  t.notMatch(again.stderr, /not-shown-anywhere/)
})

t.test('a source that is not a migrated SQLite file, or a target that is not PostgreSQL, is refused in one line', only, async t => {
  const dir = tempDir(t)
  const missing = await copy(`file:${join(dir, 'none.db')}`, 'postgres://postgres@127.0.0.1:5432/none')
  t.equal(missing.code, 1)
  t.match(missing.stderr, /^db:copy: /)
  const wrong = await copy(`file:${join(dir, 'none.db')}`, 'mysql://x@y/z')
  t.equal(wrong.code, 1)
  t.match(wrong.stderr, /^db:copy: --to must be a postgres:\/\/ or postgresql:\/\/ URL/)
})
