import t, { type Test } from 'tap'
import { bearer, Browser, build, PASSWORD, register, signedIn, token, type App } from '../../helper.js'
import { drained, smtpServer } from '../../mail.js'

const PUBLIC_URL = 'https://auth.example.test'

async function withMail (t: Test, env: Record<string, string> = {}) {
  const smtp = await smtpServer(t)
  const app = await build(t, { SMTP_URL: smtp.url, PUBLIC_URL, ...env })
  return { app, smtp }
}

const verify = (app: App, token: string) => app.inject({ method: 'POST', url: '/auth/email/verify', payload: { token } })
const resend = (app: App, email: string) => app.inject({ method: 'POST', url: '/auth/email/verify/resend', payload: { email } })
const me = async (app: App, accessToken: string) => (await app.inject({ url: '/auth/me', headers: bearer(accessToken) })).json().user
const change = (app: App, accessToken: string, newEmail: string, password = PASSWORD) =>
  app.inject({ method: 'POST', url: '/auth/email', headers: bearer(accessToken), payload: { newEmail, password } })

t.test('registration mails a link that verifies the address', async t => {
  const { app, smtp } = await withMail(t)
  const { user, tokens } = await signedIn(app)
  t.equal((await me(app, tokens.access_token)).emailVerified, false)

  const mail = await smtp.mail(user.email)
  t.equal(mail.subject, 'Confirm your email address')
  t.equal(mail.link!.url, `${PUBLIC_URL}/#verify-email=${mail.link!.token}`)
  t.match(mail.text, /within 24 hours/)

  const res = await verify(app, mail.link!.token)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { email: user.email, changed: false })
  t.equal((await me(app, tokens.access_token)).emailVerified, true, '/auth/me shows it')
  t.equal((await verify(app, mail.link!.token)).json().error, 'invalid_mail_token', 'the link works once')
  const events = await app.store.prisma.auditEvent.findMany({ where: { userId: user.id, type: 'email_verified' } })
  t.equal(events.length, 1, 'the use is in the audit trail')
})

t.test('a reset link is no verification link, nor the other way round', async t => {
  const { app, smtp } = await withMail(t)
  const user = await register(app)
  const verification = (await smtp.mail(user.email)).link!.token
  await app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email: user.email } })
  const resetToken = (await smtp.mail(user.email, 2)).link!.token
  t.equal((await verify(app, resetToken)).json().error, 'invalid_mail_token')
  t.equal((await app.inject({ method: 'POST', url: '/auth/password/reset', payload: { token: verification, newPassword: 'a new passphrase here' } })).json().error, 'invalid_mail_token')
  // Nor as an access or refresh token.
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(resetToken) })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: verification } })).statusCode, 400)
})

t.test('resend: a new link for an unverified address, the same answer for any other', async t => {
  const { app, smtp } = await withMail(t)
  const unverified = await register(app)
  const verified = await register(app)
  await smtp.mail(unverified.email)
  await verify(app, (await smtp.mail(verified.email)).link!.token)

  const answers = await Promise.all([resend(app, 'nobody@example.com'), resend(app, verified.email), resend(app, unverified.email)])
  for (const res of answers) {
    t.equal(res.statusCode, 202)
    t.equal(res.body, answers[2].body)
  }
  const second = await smtp.mail(unverified.email, 2)
  t.equal(second.subject, 'Confirm your email address')
  t.equal((await verify(app, (await smtp.mail(unverified.email, 1)).link!.token)).json().error, 'invalid_mail_token', 'the newer link replaces the first')
  t.equal((await verify(app, second.link!.token)).statusCode, 200)
  await drained(app)
  t.equal(smtp.to(verified.email).length, 1, 'a verified address gets nothing more')
})

t.test('REQUIRE_EMAIL_VERIFICATION: an unverified address is refused after the password check only', async t => {
  const { app, smtp } = await withMail(t, { REQUIRE_EMAIL_VERIFICATION: 'true' })
  const user = await register(app)

  const wrong = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: 'not the password' } })
  t.equal(wrong.json().error, 'invalid_grant', 'a wrong password says nothing of the address')
  const refused = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: user.username, password: PASSWORD } })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().error, 'email_not_verified')
  const browser = new Browser(app, PUBLIC_URL)
  await browser.request('GET', '/auth/csrf')
  const page = await browser.request('POST', '/auth/login', { payload: { username: user.username, password: PASSWORD } })
  t.equal(page.statusCode, 403)
  t.equal(page.json().error, 'email_not_verified')
  t.notOk(page.headers['set-cookie']?.toString().includes('access'), 'no session cookie')
  t.equal(await app.store.prisma.session.count({ where: { userId: user.id } }), 0, 'no session was opened')
  const failed = await app.store.prisma.auditEvent.findFirst({ where: { userId: user.id, type: 'login_failed' }, orderBy: { seq: 'desc' } })
  t.same(JSON.parse(failed!.detail!), { via: 'browser', reason: 'email_not_verified' })

  await verify(app, (await smtp.mail(user.email)).link!.token)
  t.ok((await token(app, user.username)).access_token, 'once verified, the login works')
})

t.test('changing the address: confirmed by the new one, the old one told', async t => {
  const { app, smtp } = await withMail(t)
  const { user, tokens } = await signedIn(app)
  await smtp.mail(user.email)
  const newEmail = `new.${user.email}`

  const res = await change(app, tokens.access_token, newEmail.toUpperCase())
  t.equal(res.statusCode, 202)
  const confirm = await smtp.mail(newEmail)
  t.equal(confirm.subject, 'Confirm your new email address')
  const notice = await smtp.mail(user.email, 2)
  t.equal(notice.subject, 'A new email address was requested for your account')
  t.match(notice.text, newEmail)
  t.equal(notice.link, undefined, 'the old address gets no link')
  t.equal((await me(app, tokens.access_token)).email, user.email, 'nothing changes before the new address confirms')

  // A reset link sent to the old address meanwhile stops working with the change.
  await app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email: user.email } })
  const oldReset = (await smtp.mail(user.email, 3)).link!.token

  const done = await verify(app, confirm.link!.token)
  t.equal(done.statusCode, 200)
  t.same(done.json(), { email: newEmail, changed: true })
  const after = await me(app, tokens.access_token)
  t.equal(after.email, newEmail)
  t.equal(after.emailVerified, true)
  t.equal((await app.inject({ method: 'POST', url: '/auth/password/reset', payload: { token: oldReset, newPassword: 'a new passphrase here' } })).json().error, 'invalid_mail_token')
  t.ok((await token(app, newEmail)).access_token, 'the new address signs in')
  const event = await app.store.prisma.auditEvent.findFirst({ where: { userId: user.id, type: 'email_changed' } })
  t.same(JSON.parse(event!.detail!), { from: user.email, to: newEmail })
})

t.test('a change needs the password, a free address that is not the current one', async t => {
  const { app, smtp } = await withMail(t)
  const { user, tokens } = await signedIn(app)
  const other = await register(app)

  const wrong = await change(app, tokens.access_token, 'fresh@example.com', 'not my password')
  t.equal(wrong.statusCode, 400)
  t.equal(wrong.json().error, 'wrong_password')
  t.equal((await change(app, tokens.access_token, other.email)).json().error, 'email_taken')
  t.equal((await change(app, tokens.access_token, user.email)).json().error, 'invalid_request')
  t.equal((await change(app, tokens.access_token, 'not an address')).json().error, 'invalid_request')
  t.equal((await app.inject({ method: 'POST', url: '/auth/email', payload: { newEmail: 'x@example.com', password: PASSWORD } })).statusCode, 401)

  // Taken between the request and the confirmation: the confirmation is refused.
  t.equal((await change(app, tokens.access_token, 'contested@example.com')).statusCode, 202)
  const link = (await smtp.mail('contested@example.com')).link!.token
  await register(app, { username: 'squatter', email: 'contested@example.com', password: PASSWORD })
  const late = await verify(app, link)
  t.equal(late.statusCode, 409)
  t.equal(late.json().error, 'email_taken')
  t.equal((await me(app, tokens.access_token)).email, user.email)
})

t.test('expired link tokens are purged a day after they expire', async t => {
  const { app, smtp } = await withMail(t)
  const old = await register(app)
  const recent = await register(app)
  await smtp.mail(recent.email)
  const day = 24 * 3600_000
  await app.store.prisma.mailToken.updateMany({ where: { userId: old.id }, data: { expiresAt: new Date(Date.now() - day - 60_000) } })
  await app.store.prisma.mailToken.updateMany({ where: { userId: recent.id }, data: { expiresAt: new Date(Date.now() - 60_000) } })
  t.equal(await app.mailTokens.purge(), 1)
  t.same((await app.store.prisma.mailToken.findMany()).map(row => row.userId), [recent.id], 'the one expired a minute ago stays, for now')
})
