// The outbox: what an SMTP outage, a refusal, a crash and a second instance do to the mails.
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import t from 'tap'
import { build, onPostgres, register, tempDir, testEnv, type App } from '../helper.js'
import { listening, post, startServer } from '../process.js'
import { smtpServer } from '../mail.js'
import { retryDelay } from '../../src/auth/mailer.js'

const forgot = (app: App, email: string) => app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email } })

/** A port on loopback that nothing listens on: a closed SMTP server. */
async function closedPort (t: Parameters<typeof smtpServer>[0]) {
  const smtp = await smtpServer(t)
  await smtp.close()
  return smtp.port
}

t.test('retries wait twice as long each time, from a second to five minutes', async t => {
  t.same([1, 2, 3, 4].map(n => retryDelay(n, 0)), [1000, 2000, 4000, 8000])
  t.equal(retryDelay(20, 0), 300_000)
  t.equal(retryDelay(1, 1), 1200, 'with up to a fifth more, so that instances do not retry in step')
})

t.test('a request never waits for the SMTP server', async t => {
  const smtp = await smtpServer(t)
  smtp.hold()
  const app = await build(t, { SMTP_URL: smtp.url })
  // The server answers nothing until released, and is released only after the answers: a
  // request that waited for it would never be answered.
  const user = await register(app)
  t.equal((await forgot(app, user.email)).statusCode, 202)
  while (smtp.attempts() === 0) await sleep(20)
  t.equal(smtp.received.length, 0, 'the server had taken no mail when the requests were answered')
  smtp.release()
  await smtp.mail(user.email, 2)
  t.pass('both mails arrive once the server answers')
})

t.test('an SMTP server that refuses, then accepts: the mail arrives once', async t => {
  const smtp = await smtpServer(t, { refuse: 451 })
  const app = await build(t, { SMTP_URL: smtp.url })
  const user = await register(app)
  const outbox = () => app.store.prisma.mailMessage.findMany()

  t.equal((await forgot(app, user.email)).statusCode, 202, 'accepted while the server refuses')
  const refused = async () => (await outbox()).find(message => message.kind === 'password_reset' && message.lastError !== null)
  while (await refused() === undefined) await sleep(20)
  const waiting = (await refused())!
  t.ok(waiting.attempts >= 1)
  t.match(waiting.lastError, /^451/, 'the refusal is kept for the operator')
  t.notMatch(waiting.sealed, /reset-password|@example/, 'the stored message is sealed')

  smtp.refuse(undefined)
  const mail = await smtp.mail(user.email, 1, { subject: 'Reset your password', timeoutMs: 20_000 })
  t.ok(mail.link, 'delivered once the server accepts')
  while ((await outbox()).length > 0) await sleep(20)
  await sleep(1500)
  t.same(smtp.to(user.email).map(mail => mail.subject).sort(), ['Confirm your email address', 'Reset your password'], 'each mail only once')
})

t.test('an SMTP server that is down, then up: the mail arrives once', async t => {
  const port = await closedPort(t)
  const app = await build(t, { SMTP_URL: `smtp://127.0.0.1:${port}` })
  const user = await register(app)
  t.equal((await forgot(app, user.email)).statusCode, 202)
  for (;;) {
    const rows = await app.store.prisma.mailMessage.findMany()
    if (rows.length === 2 && rows.every(row => row.attempts >= 2 && row.lastError !== null)) break
    await sleep(50)
  }
  const smtp = await smtpServer(t, { port })
  await smtp.mail(user.email, 2, { timeoutMs: 20_000 })
  await sleep(1500)
  t.same(smtp.received.map(mail => mail.subject).sort(), ['Confirm your email address', 'Reset your password'], 'each once')
})

/**
 * An instance whose sender is stopped, to queue mail that no one sends, and a way to start
 * others on its database that do.
 */
async function queueing (t: Parameters<typeof smtpServer>[0], smtp: { url: string }) {
  const dir = onPostgres ? undefined : tempDir(t)
  const on = dir === undefined ? {} : { dir }
  const first = await build(t, { SMTP_URL: smtp.url }, on)
  await first.mailer.stop()
  const shared: Record<string, string> = onPostgres ? { DATABASE_URL: first.config.DATABASE_URL } : {}
  return { first, sender: () => build(t, { SMTP_URL: smtp.url, ...shared }, on) }
}

t.test('a mail whose link expired before the server took it is dropped', async t => {
  const smtp = await smtpServer(t)
  // Queued while no one sends, and past their time when a sender starts.
  const { first, sender } = await queueing(t, smtp)
  const user = await register(first)
  await first.mailer.enqueue(first.store, 'password_changed', { to: user.email, subject: 'Too late', text: 'x', html: 'x' }, new Date(Date.now() + 60_000))
  t.equal(await first.store.prisma.mailMessage.count(), 2)
  await first.store.prisma.mailMessage.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } })
  await sender()
  while (await first.store.prisma.mailMessage.count() > 0) await sleep(20)
  await sleep(300)
  t.equal(smtp.received.length, 0, 'nothing is sent: the link in it no longer works')
})

t.test('two instances on one database send each mail once', async t => {
  const smtp = await smtpServer(t)
  // The mails are queued while no one sends (the resets as jobs: whose address is it?), then two
  // instances start at once.
  const { first, sender } = await queueing(t, smtp)
  const users = []
  for (let i = 0; i < 20; i++) {
    const user = await register(first)
    await forgot(first, user.email)
    users.push(user)
  }
  t.equal(await first.store.prisma.mailMessage.count(), 40, 'a verification and a reset for each')
  await Promise.all([sender(), sender()])
  await smtp.mail(undefined, 40, { timeoutMs: 30_000 })
  while (await first.store.prisma.mailMessage.count() > 0) await sleep(20)
  await sleep(500)
  const sent = smtp.received.map(mail => `${mail.to} ${mail.subject}`)
  t.equal(sent.length, 40)
  t.equal(new Set(sent).size, 40, 'none twice')
})

t.test('a crash while the SMTP server is down loses no mail', { skip: onPostgres && 'the process test runs on SQLite' }, async t => {
  const dir = tempDir(t)
  const port = await closedPort(t)
  const env = testEnv(dir, { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', SMTP_URL: `smtp://127.0.0.1:${port}` })
  const proc = startServer(t, env, dir)
  const base = await listening(proc)
  const email = 'crash@example.com'
  t.equal((await post(base, '/auth/register', { username: 'crash', email, password: 'correct horse battery staple' })).status, 201)
  t.equal((await post(base, '/auth/password/forgot', { email })).status, 202)
  proc.child.kill('SIGKILL')
  await proc.exited

  // The dead process may have been trying one of them: it stays held until its hold ends. Time
  // passes, here by the database's clock.
  const db = new Database(join(dir, 'auth.db'))
  t.equal((db.prepare('SELECT count(*) AS n FROM MailMessage').get() as { n: number }).n, 2, 'both wait in the outbox')
  db.prepare('UPDATE MailMessage SET lockedUntil = NULL').run()
  db.close()
  const smtp = await smtpServer(t, { port })
  const app = await build(t, { SMTP_URL: smtp.url }, { dir })
  const mails = [await smtp.mail(email, 1, { timeoutMs: 20_000 }), await smtp.mail(email, 2, { timeoutMs: 20_000 })]
  t.same(mails.map(mail => mail.subject).sort(), ['Confirm your email address', 'Reset your password'], 'both mails the dead process acknowledged are sent')
  const reset = mails.find(mail => mail.subject === 'Reset your password')!
  const res = await app.inject({ method: 'POST', url: '/auth/password/reset', payload: { token: reset.link!.token, newPassword: 'a brand new passphrase' } })
  t.equal(res.statusCode, 204, 'and its link works')
})
