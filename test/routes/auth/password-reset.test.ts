import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import { build, PASSWORD, refresh, register, signedIn, statusWith, token, type App } from '../../helper.js'
import { drained, smtpServer, type SmtpServer } from '../../mail.js'

const PUBLIC_URL = 'https://auth.example.test'
const NEW_PASSWORD = 'a new and better passphrase'

async function withMail (t: Test, env: Record<string, string> = {}) {
  const smtp = await smtpServer(t)
  const app = await build(t, { SMTP_URL: smtp.url, MAIL_FROM: 'Accounts <accounts@example.test>', PUBLIC_URL, ...env })
  return { app, smtp }
}

const forgot = (app: App, email: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email }, headers })
const reset = (app: App, token: string, newPassword = NEW_PASSWORD) =>
  app.inject({ method: 'POST', url: '/auth/password/reset', payload: { token, newPassword } })
const passwordLogin = (app: App, username: string, password: string) =>
  app.inject({ method: 'POST', url: '/auth/token', payload: { username, password } })

const RESET = { subject: 'Reset your password' }

async function resetLink (app: App, smtp: SmtpServer, email: string, n = 1) {
  const res = await forgot(app, email)
  if (res.statusCode !== 202) throw new Error(`forgot failed: ${res.statusCode} ${res.body}`)
  const mail = await smtp.mail(email, n, RESET)
  return mail.link!.token
}

t.test('a reset link by mail sets a new password and ends every session', async t => {
  const { app, smtp } = await withMail(t)
  const { user, tokens } = await signedIn(app)
  const other = await token(app, user.username)

  // A forged Host must not move the link elsewhere: links are built from PUBLIC_URL only.
  const res = await forgot(app, user.email.toUpperCase(), { host: 'evil.example', 'x-forwarded-host': 'evil.example' })
  t.equal(res.statusCode, 202)
  t.same(res.json(), { message: 'If an account has this address, a mail is on its way' })
  const mail = await smtp.mail(user.email, 1, RESET)
  t.equal(mail.from, 'accounts@example.test')
  t.equal(mail.subject, 'Reset your password')
  t.ok(mail.link, 'the text part carries the link')
  t.equal(mail.link!.url, `${PUBLIC_URL}/#reset-password=${mail.link!.token}`, 'the token is in the fragment, on PUBLIC_URL')
  t.match(mail.html, `href="${PUBLIC_URL}/#reset-password=${mail.link!.token}"`, 'and so does the HTML part')
  t.match(mail.text, /within 30 minutes/)
  t.notOk(JSON.stringify(await app.store.prisma.mailToken.findMany()).includes(mail.link!.token), 'the database holds no token, only its hash')

  t.equal((await reset(app, mail.link!.token)).statusCode, 204)
  t.equal(await statusWith(app, tokens.access_token), 401, 'every access token is refused at once')
  t.equal(await statusWith(app, other.access_token), 401)
  t.equal((await refresh(app, tokens.refresh_token)).statusCode, 400, 'and every refresh token')
  t.equal((await passwordLogin(app, user.username, PASSWORD)).statusCode, 400, 'the old password is refused')
  t.equal((await passwordLogin(app, user.username, NEW_PASSWORD)).statusCode, 200, 'the new one works')

  const again = await reset(app, mail.link!.token, 'yet another passphrase')
  t.equal(again.statusCode, 400, 'the link works once')
  t.same(again.json(), { error: 'invalid_mail_token', message: 'This link is invalid, used or expired; ask for a new one' })

  const notice = await smtp.mail(user.email, 1, { subject: 'Your password was changed' })
  t.equal(notice.link, undefined)

  const stored = await app.store.prisma.user.findUniqueOrThrow({ where: { id: user.id } })
  t.equal(stored.passwordVersion, 1)
  t.equal(stored.emailVerified, true, 'the link reached the address: it counts as verified')
  const events = await app.store.prisma.auditEvent.findMany({ where: { userId: user.id }, orderBy: { seq: 'asc' } })
  const requested = events.find(e => e.type === 'password_reset_requested')
  t.same(JSON.parse(requested!.detail!), { sent: true })
  const done = events.find(e => e.type === 'password_reset')
  t.same(JSON.parse(done!.detail!), { sessionsEnded: 2 })
  // (The server has the notice; the sender deletes it from the outbox once it hears the 250.)
  await drained(app)
  t.pass('the outbox is empty once the server took every mail')
})

t.test('an unknown or disabled address gets the same answer and no mail', async t => {
  const { app, smtp } = await withMail(t)
  const disabled = await register(app)
  await app.store.prisma.user.update({ where: { id: disabled.id }, data: { disabled: true } })
  const known = await register(app)

  const unknown = await forgot(app, 'nobody@example.com')
  const off = await forgot(app, disabled.email)
  const yes = await forgot(app, known.email)
  for (const res of [unknown, off]) {
    t.equal(res.statusCode, yes.statusCode)
    t.equal(res.body, yes.body, 'the same body')
    t.same(Object.keys(res.headers).sort(), Object.keys(yes.headers).sort(), 'the same headers')
  }
  await smtp.mail(known.email, 1, RESET)
  await drained(app)
  t.same(smtp.received.filter(mail => mail.subject === RESET.subject).map(mail => mail.to), [known.email], 'only the enabled account gets a reset mail')
  // (Written by the jobs after the answers, which a sender runs together: in no set order.)
  const audit = await app.store.prisma.auditEvent.findMany({ where: { type: 'password_reset_requested' } })
  const rows = (e: Array<[string | null, boolean]>) => e.map(row => JSON.stringify(row)).sort()
  t.same(rows(audit.map(e => [e.userId, JSON.parse(e.detail!).sent])), rows([[null, false], [disabled.id, false], [known.id, true]]), 'every request is in the audit trail')
})

t.test('a newer link replaces the older; an expired one is refused', async t => {
  const { app, smtp } = await withMail(t)
  const user = await register(app)
  const first = await resetLink(app, smtp, user.email, 1)
  const second = await resetLink(app, smtp, user.email, 2)
  t.equal((await reset(app, first)).json().error, 'invalid_mail_token', 'the first link no longer works')

  await app.store.prisma.mailToken.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } })
  t.equal((await reset(app, second)).json().error, 'invalid_mail_token', 'nor one past RESET_TOKEN_TTL')
  t.equal((await passwordLogin(app, user.username, PASSWORD)).statusCode, 200, 'the password is as it was')
})

t.test('a bad new password keeps the link usable; a made-up token is refused', async t => {
  const { app, smtp } = await withMail(t)
  const user = await register(app)
  const link = await resetLink(app, smtp, user.email)

  const weak = await reset(app, link, 'short')
  t.equal(weak.statusCode, 400)
  t.equal(weak.json().error, 'invalid_password')
  t.equal((await reset(app, link, 'x'.repeat(73))).json().error, 'invalid_password', 'the rules of registration apply')
  t.equal((await reset(app, 'A'.repeat(43))).json().error, 'invalid_mail_token')
  const malformed = await reset(app, 'not a token')
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().error, 'invalid_request')
  t.equal((await app.inject({ method: 'POST', url: '/auth/password/reset', payload: { token: link } })).json().error, 'invalid_request')
  t.equal((await reset(app, link)).statusCode, 204, 'the link still works after the refusals')
})

t.test('a reset link for an address the account no longer has is refused', async t => {
  const { app, smtp } = await withMail(t)
  const user = await register(app)
  const link = await resetLink(app, smtp, user.email)
  await app.store.prisma.user.update({ where: { id: user.id }, data: { email: 'elsewhere@example.com' } })
  t.equal((await reset(app, link)).json().error, 'invalid_mail_token')
})

t.test('requests are limited per address, known or not, and per client address', async t => {
  const { app } = await withMail(t, { RATE_LIMIT_MAIL: '2', RATE_LIMIT_MAIL_REQUEST: '6' })
  const user = await register(app)
  for (const email of [user.email, 'nobody@example.com']) {
    t.equal((await forgot(app, email)).statusCode, 202)
    t.equal((await forgot(app, email)).statusCode, 202)
    const third = await forgot(app, email)
    t.equal(third.statusCode, 429, `the third for ${email === user.email ? 'a known' : 'an unknown'} address in an hour`)
    t.equal(third.json().error, 'rate_limited')
    t.ok(Number(third.headers['retry-after']) > 0)
  }
  // Six from this client address so far (two of them refused): the per-client limit is next.
  const seventh = await forgot(app, 'someone.else@example.com')
  t.equal(seventh.statusCode, 429, 'a seventh from one client address in an hour')
  t.equal(seventh.json().error, 'rate_limited')
})

t.test('the answer takes about the same time whether or not the address is known', async t => {
  const { app, smtp } = await withMail(t)
  const users = []
  for (let i = 0; i < 5; i++) users.push(await register(app))
  await smtp.mail(undefined, 5)
  // What a request leaves for after its answer (the lookup, the mail) is done before the next
  // one is timed: each answer is measured on its own.
  const idle = () => drained(app)
  const time = async (email: string) => {
    await idle()
    const start = process.hrtime.bigint()
    const res = await forgot(app, email)
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    t.equal(res.statusCode, 202)
    return ms
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const known: number[] = []
  const unknown: number[] = []
  for (let i = 0; i < 40; i++) {
    // Interleaved, so that whatever the machine does meanwhile falls on both alike.
    known.push(await time(users[i % users.length].email))
    unknown.push(await time(`unknown${i}@example.com`))
  }
  await idle()
  t.equal(smtp.received.filter(mail => mail.subject === RESET.subject).length, 40, 'the known addresses got their mails')
  const gap = Math.abs(median(known) - median(unknown))
  t.ok(gap < 2, `medians ${median(known).toFixed(2)} ms (known) and ${median(unknown).toFixed(2)} ms (unknown) are within 2 ms`)
})

t.test('a reset racing a login with the old password: no old-password session survives', async t => {
  const { app, smtp } = await withMail(t)
  const outcomes = { loginFirst: 0, resetFirst: 0 }
  const later = <T>(ms: number, request: () => Promise<T>) => new Promise(resolve => setTimeout(resolve, ms)).then(request)
  for (let round = 0; round < 12; round++) {
    const user = await register(app)
    const link = await resetLink(app, smtp, user.email)
    // Either one a little after the other, by 0 to 10 ms: the interleavings differ from round to round.
    const [login, done] = await Promise.all([
      later(round % 2 === 0 ? round : 0, () => passwordLogin(app, user.username, PASSWORD)),
      later(round % 2 === 1 ? round : 0, () => reset(app, link))
    ])
    outcomes[login.statusCode === 200 ? 'loginFirst' : 'resetFirst']++
    t.equal(done.statusCode, 204)
    if (login.statusCode === 200) {
      const { access_token: accessToken, refresh_token: refreshToken } = login.json()
      t.equal(await statusWith(app, accessToken), 401, `round ${round}: the session the old password opened is ended`)
      t.equal((await refresh(app, refreshToken)).statusCode, 400)
    } else {
      t.equal(login.statusCode, 400, `round ${round}: the old password was refused`)
    }
    const live = await app.store.prisma.session.count({ where: { userId: user.id, revokedAt: null } })
    t.equal(live, 0, 'the user has no live session')
  }
  t.comment(`logins that opened a session before the reset ended it: ${outcomes.loginFirst}; refused: ${outcomes.resetFirst}`)
})

t.test('without SMTP_URL: in production mail flows answer 503; elsewhere the mail goes to the log', async t => {
  const production = await build(t, { NODE_ENV: 'production', PUBLIC_URL, BCRYPT_ROUNDS: '10' })
  const user = await register(production)
  const res = await forgot(production, user.email)
  t.equal(res.statusCode, 503)
  t.same(res.json(), { error: 'mail_not_configured', message: 'This service cannot send mail; ask its operator' })
  t.equal((await forgot(production, 'nobody@example.com')).statusCode, 503, 'whether or not the address is known')
  t.equal((await production.inject({ method: 'POST', url: '/auth/email/verify/resend', payload: { email: user.email } })).statusCode, 503)
  t.equal((await production.store.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).emailVerified, false, 'registration works, without a mail')
  t.equal(await production.store.prisma.mailMessage.count(), 0)

  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const dev = await build(t, { LOG_LEVEL: 'info', NODE_ENV: 'development', PORT: '3999' }, { logStream })
  const devUser = await register(dev)
  t.equal((await forgot(dev, devUser.email)).statusCode, 202)
  let logged: { mail: { to: string, subject: string, text: string } } | undefined
  for (let i = 0; i < 100 && logged === undefined; i++) {
    logged = lines.map(line => JSON.parse(line)).find(entry => entry.mail?.subject === 'Reset your password')
    if (logged === undefined) await new Promise(resolve => setTimeout(resolve, 20))
  }
  t.ok(logged, 'the mail is in the log')
  t.equal(logged!.mail.to, devUser.email)
  t.match(logged!.mail.text, /http:\/\/localhost:3999\/#reset-password=[A-Za-z0-9_-]{43}/, 'with a link a person can follow')
  const token = /#reset-password=([A-Za-z0-9_-]{43})/.exec(logged!.mail.text)![1]
  t.equal((await reset(dev, token)).statusCode, 204)
})
