// End to end, in a real browser: Debian's Chromium driven by playwright-core, against the
// service running as a process. .ci/run installs Chromium; elsewhere, without it, this file
// is skipped (and fails under CI=true, so that CI cannot skip it by accident).
import { existsSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { PASSWORD, tempDir, testEnv, totpCode, totpStep } from '../helper.js'
import { listening, startServer } from '../process.js'
import { smtpServer } from '../mail.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = new URL('../../artifacts/e2e/', import.meta.url).pathname
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`

if (missing !== false && process.env.CI !== undefined) t.fail(`${missing}: CI must install it (.ci/run does)`)

async function service (t: Test, env: Record<string, string> = {}) {
  const dir = tempDir(t)
  const server = startServer(t, testEnv(dir, { HOST: 'localhost', PORT: '0', LOG_LEVEL: 'info', ...env }), dir)
  const port = new URL(await listening(server)).port
  return { dir, server, base: `http://localhost:${port}` }
}

// One browser profile (context): its pages share the cookie jar, as tabs do.
async function chromiumPage (t: Test): Promise<{ context: BrowserContext, page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const context = await browser.newContext()
  return { context, page: await context.newPage() }
}

const message = (page: Page) => page.locator('#message').textContent()
const signedInAs = (page: Page) => page.locator('#me [data-field="username"]').textContent()
const saying = (page: Page, text: string) =>
  page.waitForFunction(expected => document.querySelector('#message')?.textContent === expected, text)
const reloaded = (page: Page) =>
  page.waitForResponse(res => new URL(res.url()).pathname === '/auth/sessions' && res.status() === 200)

async function signUp (page: Page, base: string, username: string) {
  await page.goto(base)
  await page.locator('#signed-out').waitFor()
  await page.fill('#sign-up [name=username]', username)
  await page.fill('#sign-up [name=email]', `${username}@example.com`)
  await page.fill('#sign-up [name=password]', PASSWORD)
  await page.click('#sign-up button')
  await saying(page, 'Account created. You are signed in.')
}

t.test('the page, in Chromium: sign up, reload, silent refresh, sign out', { skip: missing }, async t => {
  // Access tokens that expire in two seconds, to watch the silent refresh work.
  const { base } = await service(t, { ACCESS_TOKEN_TTL: '2' })
  const { page } = await chromiumPage(t)
  const requests: string[] = []
  page.on('request', request => { requests.push(`${request.method()} ${new URL(request.url()).pathname}`) })

  await t.test('sign up, and be signed in', async t => {
    await signUp(page, base, 'alice')
    t.ok(await page.locator('#signed-in').isVisible())
    t.notOk(await page.locator('#signed-out').isVisible())
    t.equal(await signedInAs(page), 'alice')
    t.equal(await page.locator('#sessions tr .current').count(), 1, 'the sessions list shows this device')
  })

  await t.test('no token is readable by a script', async t => {
    t.equal(await page.evaluate(() => document.cookie), '')
    t.equal(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })), '{}{}')
    const cookies = await page.context().cookies()
    t.same(cookies.map(c => c.name).sort(), ['__Host-access', '__Host-csrf', '__Host-device', '__Secure-refresh'])
    t.ok(cookies.every(c => c.httpOnly && c.secure), 'all HttpOnly and Secure')
  })

  await t.test('a reload stays signed in', async t => {
    await page.reload()
    await page.locator('#signed-in').waitFor()
    await page.waitForFunction(() => document.querySelector('#me [data-field="username"]')?.textContent !== '')
    t.equal(await signedInAs(page), 'alice')
  })

  await t.test('after the access token expired, the page keeps working through a silent refresh', async t => {
    const accessBefore = (await page.context().cookies()).find(c => c.name === '__Host-access')?.value
    await sleep(3000)
    t.notOk((await page.context().cookies()).some(c => c.name === '__Host-access'), 'the browser dropped the expired access cookie')
    requests.length = 0
    await Promise.all([reloaded(page), page.click('#reload')])
    t.ok(requests.includes('POST /auth/refresh'), 'the page refreshed')
    t.equal(await signedInAs(page), 'alice')
    t.not((await page.context().cookies()).find(c => c.name === '__Host-access')?.value, accessBefore)
    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'signed-in.png'), fullPage: true })
  })

  await t.test('sign out, and be signed out', async t => {
    await page.click('#sign-out')
    await saying(page, 'Signed out.')
    t.ok(await page.locator('#signed-out').isVisible())
    t.same((await page.context().cookies()).map(c => c.name).sort(), ['__Host-csrf', '__Host-device'], 'the session cookies are gone; the device stays known')
    await page.reload()
    await page.locator('#signed-out').waitFor()
    t.equal(await page.evaluate(async () => (await fetch('/auth/me')).status), 401)
  })

  await t.test('errors show clear messages', async t => {
    await page.fill('#sign-in [name=username]', 'alice')
    await page.fill('#sign-in [name=password]', 'not the password')
    await page.click('#sign-in button')
    await saying(page, 'Wrong username or password.')
    await page.fill('#sign-up [name=username]', 'alice')
    await page.fill('#sign-up [name=email]', 'other@example.com')
    await page.fill('#sign-up [name=password]', PASSWORD)
    await page.click('#sign-up button')
    await saying(page, 'That username is already taken.')
    t.equal(await page.locator('#message.error').count(), 1)
  })
})

t.test('a page from another origin cannot sign the user out or change the password', { skip: missing }, async t => {
  const { base, dir, server } = await service(t)
  const { context, page } = await chromiumPage(t)
  await signUp(page, base, 'bob')

  // Another port of localhost: the same site, so even SameSite=Strict cookies go along. What
  // stops these requests is the Origin check and the CSRF token they cannot have.
  const evil = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html')
    res.end(`<!doctype html><body><iframe name="sink"></iframe>
      <form id="f" method="POST" action="${base}/auth/logout-all" target="sink"></form>
      <script>
        const results = {}
        const attempt = async (name, url, init) => {
          try { const r = await fetch(url, { credentials: 'include', ...init }); results[name] = r.type === 'opaque' ? 'sent' : r.status }
          catch { results[name] = 'blocked by the browser' }
        }
        ;(async () => {
          await attempt('logout, no-cors', '${base}/auth/logout', { method: 'POST', mode: 'no-cors' })
          await attempt('password, text/plain', '${base}/auth/password', { method: 'POST', mode: 'no-cors',
            headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ currentPassword: '${PASSWORD}', newPassword: 'taken over 123' }) })
          await attempt('logout with a made-up CSRF header', '${base}/auth/logout', { method: 'POST', headers: { 'x-csrf-token': 'guess' } })
          await attempt('read a CSRF token', '${base}/auth/csrf', {})
          document.querySelector('iframe').addEventListener('load', () => { document.title = JSON.stringify(results) })
          document.getElementById('f').submit()
        })()
      </script></body>`)
  }).listen(0, '127.0.0.1')
  await once(evil, 'listening')
  t.teardown(() => { evil.close() })

  // Another tab of the same browser, so the user's cookies are there to be abused.
  const attacker = await context.newPage()
  await attacker.goto(`http://localhost:${(evil.address() as { port: number }).port}/`)
  await attacker.waitForFunction(() => document.title.startsWith('{'))
  // The no-cors requests do leave the browser (the service's log below shows them arrive); the
  // answers are then withheld from the other origin by Cross-Origin-Resource-Policy.
  t.same(JSON.parse(await attacker.title()), {
    'logout, no-cors': 'blocked by the browser',
    'password, text/plain': 'blocked by the browser',
    'logout with a made-up CSRF header': 'blocked by the browser',
    'read a CSRF token': 'blocked by the browser'
  })

  const refused = server.out().split('\n').filter(line => line.includes('"error":"csrf_rejected"'))
  t.equal(refused.length, 3, 'the two fetches and the form reached the service, with the cookies, and were refused')
  const db = new Database(join(dir, 'auth.db'), { readonly: true })
  t.equal((db.prepare('SELECT count(*) AS n FROM Session WHERE revokedAt IS NOT NULL').get() as { n: number }).n, 0, 'no session ended')
  db.close()

  await Promise.all([reloaded(page), page.click('#reload')])
  t.equal(await signedInAs(page), 'bob', 'still signed in')
  t.equal(await message(page), 'Account created. You are signed in.', 'no error on the page')
  const login = await fetch(`${base}/auth/token`, { method: 'POST', body: new URLSearchParams({ username: 'bob', password: PASSWORD }) })
  t.equal(login.status, 200, 'the password is unchanged')

  // A link from another site (127.0.0.1 is not the site localhost) to GET /auth/csrf, followed
  // at the top level: it must not replace the CSRF secret under the user's open page.
  const secret = async () => (await context.cookies()).find(c => c.name === '__Host-csrf')?.value
  const before = await secret()
  const linker = await context.newPage()
  await linker.goto(`http://127.0.0.1:${(evil.address() as { port: number }).port}/`)
  await linker.evaluate(url => { location.href = url }, `${base}/auth/csrf`)
  await linker.waitForURL(`${base}/auth/csrf`)
  t.equal(await secret(), before, 'the CSRF secret is unchanged')
  await page.click('#sign-out')
  await saying(page, 'Signed out.')
  t.pass('and the open page can still sign out')
})

t.test('forgot password in Chromium: the mail, its link, a new password', { skip: missing }, async t => {
  const smtp = await smtpServer(t)
  // Links point at PUBLIC_URL, so the service needs its port before it starts.
  const probe = createServer().listen(0, 'localhost')
  await once(probe, 'listening')
  const port = (probe.address() as { port: number }).port
  await new Promise(resolve => probe.close(resolve))
  const { base } = await service(t, { PORT: String(port), PUBLIC_URL: `http://localhost:${port}`, SMTP_URL: smtp.url })
  const { context, page } = await chromiumPage(t)
  await signUp(page, base, 'carol')
  await page.click('#sign-out')
  await saying(page, 'Signed out.')

  await page.fill('#forgot [name=email]', 'carol@example.com')
  await page.click('#forgot button')
  await saying(page, 'If an account has this address, a mail is on its way.')
  const mail = await smtp.mail('carol@example.com', 2)
  t.equal(mail.subject, 'Reset your password')
  t.equal(new URL(mail.link!.url).origin, base)

  // Opened from the mail, in a new tab.
  const tab = await context.newPage()
  const requests: string[] = []
  tab.on('request', request => { requests.push(request.url()) })
  await tab.goto(mail.link!.url)
  await tab.locator('#reset').waitFor()
  t.equal(new URL(tab.url()).hash, '', 'the token is taken out of the address bar')
  t.notOk(requests.some(url => url.includes(mail.link!.token)), 'and never was in a URL the browser requested')
  await tab.fill('#new-password [name=newPassword]', 'carol chose a new one')
  await tab.click('#new-password button')
  await saying(tab, 'Your password is set. Sign in with it.')
  t.ok(await tab.locator('#signed-out').isVisible())

  await page.fill('#sign-in [name=username]', 'carol')
  await page.fill('#sign-in [name=password]', PASSWORD)
  await page.click('#sign-in button')
  await saying(page, 'Wrong username or password.')
  await page.fill('#sign-in [name=username]', 'carol')
  await page.fill('#sign-in [name=password]', 'carol chose a new one')
  await page.click('#sign-in button')
  await saying(page, 'Signed in as carol.')

  // The verification link from the sign-up, pasted into the open page.
  const verification = await smtp.mail('carol@example.com', 1)
  await page.goto(verification.link!.url)
  await saying(page, 'carol@example.com is confirmed. Thank you.')
  await page.waitForFunction(() => document.querySelector('#me [data-field="verified"]')?.textContent === 'yes')
  t.pass('the page shows the address verified')
})

t.test('two-step sign-in in Chromium: set up from the QR code page, sign in with a code, then a recovery code', { skip: missing }, async t => {
  const { base } = await service(t)
  const { page } = await chromiumPage(t)
  await signUp(page, base, 'tess')

  await page.click('#totp-start')
  await page.locator('#totp-confirm').waitFor()
  t.match(await page.locator('#totp-qr').getAttribute('src'), /^data:image\/svg\+xml,/, 'the QR code is shown')
  t.ok(await page.locator('#totp-qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 'and the browser drew it')
  const secret = (await page.locator('#totp-secret').textContent())!
  const step = totpStep(Date.now())
  await page.fill('#totp-confirm [name=code]', totpCode(secret, step))
  await page.click('#totp-confirm button')
  await saying(page, 'Two-step sign-in is on.')
  const recoveryCodes = await page.locator('#recovery-list li').allTextContents()
  t.equal(recoveryCodes.length, 10, 'the recovery codes, shown once')
  t.match(await page.locator('#mfa [data-field="mfa-status"]').textContent(), /^On/)

  for (const code of [totpCode(secret, step + 1), recoveryCodes[0]]) {
    await page.click('#sign-out')
    await saying(page, 'Signed out.')
    t.ok(await page.locator('#recovery-codes').isHidden(), 'the recovery codes are gone from the page')
    await page.fill('#sign-in [name=username]', 'tess')
    await page.fill('#sign-in [name=password]', PASSWORD)
    await page.click('#sign-in button')
    await page.locator('#second-step').waitFor()
    t.notOk((await page.context().cookies()).some(c => c.name.endsWith('access')), 'no session before the second step')
    await page.fill('#login-code [name=code]', '000000')
    await page.click('#login-code button')
    await saying(page, 'That code is not right, or was already used.')
    await page.fill('#login-code [name=code]', code)
    await page.click('#login-code button')
    await saying(page, 'Signed in as tess.')
  }
  t.match(await page.locator('#mfa [data-field="mfa-status"]').textContent(), /9 recovery codes left/)
})

t.test('passkeys in Chromium: registered from the page, then a sign-in with no username; a browser without it cannot', { skip: missing }, async t => {
  const { base, dir } = await service(t)
  const { page } = await chromiumPage(t)
  // A platform authenticator as a laptop has one: resident keys, user verification, touch given.
  const authenticator = async (target: Page) => {
    const cdp = await target.context().newCDPSession(target)
    await cdp.send('WebAuthn.enable')
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true }
    })
    return async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials
  }
  const credentials = await authenticator(page)
  await signUp(page, base, 'pia')

  await page.fill('#passkey-add [name=name]', 'Work laptop')
  await page.click('#passkey-add button')
  await saying(page, 'Passkey "Work laptop" added.')
  t.same(await page.locator('#passkey-list td:first-child').allTextContents(), ['Work laptop'])
  const [credential] = await credentials()
  t.equal(credential.isResidentCredential, true, 'a discoverable credential')
  const db = new Database(join(dir, 'auth.db'), { readonly: true })
  t.teardown(() => db.close())
  const stored = db.prepare('SELECT id, name FROM Passkey').all() as Array<{ id: string, name: string }>
  t.same(stored, [{ id: Buffer.from(credential.credentialId, 'base64').toString('base64url'), name: 'Work laptop' }], 'the service keeps the credential the authenticator made')

  await page.click('#sign-out')
  await saying(page, 'Signed out.')
  const answered = page.waitForRequest(request => new URL(request.url()).pathname === '/auth/passkeys/login')
  await page.click('#passkey-sign-in')
  await saying(page, 'Signed in as pia.')
  const signedAnswer = (await answered).postData()!
  const session = db.prepare('SELECT amr FROM Session ORDER BY createdAt DESC LIMIT 1').get() as { amr: string }
  t.equal(session.amr, 'hwk user mfa', 'a passkey sign-in counts as two factors')
  t.match(await page.locator('#passkey-list td:nth-child(3)').textContent(), /\d/, 'its last use is shown')
  t.equal((await credentials())[0].signCount, 2, 'the authenticator signed twice: the registration and the sign-in')

  // With an authenticator app on, the passkey can be the second step of a password login.
  await page.click('#totp-start')
  await page.locator('#totp-confirm').waitFor()
  await page.fill('#totp-confirm [name=code]', totpCode((await page.locator('#totp-secret').textContent())!, totpStep(Date.now())))
  await page.click('#totp-confirm button')
  await saying(page, 'Two-step sign-in is on.')
  await page.click('#sign-out')
  await saying(page, 'Signed out.')
  await page.fill('#sign-in [name=username]', 'pia')
  await page.fill('#sign-in [name=password]', PASSWORD)
  await page.click('#sign-in button')
  await page.locator('#passkey-second-step').waitFor()
  await page.click('#passkey-second-step')
  await saying(page, 'Signed in as pia.')
  const stepped = db.prepare('SELECT amr FROM Session ORDER BY createdAt DESC LIMIT 1').get() as { amr: string }
  t.equal(stepped.amr, 'pwd hwk user mfa', 'a password, then the passkey')

  const other = await chromiumPage(t)
  await authenticator(other.page)
  await other.page.goto(base)
  await other.page.locator('#signed-out').waitFor()
  await other.page.click('#passkey-sign-in')
  await saying(other.page, 'The passkey was not used (cancelled, or not available on this device).')
  t.ok(await other.page.locator('#signed-out').isVisible(), 'a browser without the passkey stays signed out')
  t.notOk((await other.context.cookies()).some(c => c.name.endsWith('access')))

  // The signed answer, taken off the wire and sent again from a browser of the attacker's own:
  // its challenge was used by the sign-in it was made for.
  const replayed = await other.page.evaluate(async body => {
    const { csrfToken } = await (await fetch('/auth/csrf')).json()
    const res = await fetch('/auth/passkeys/login', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body })
    return { status: res.status, body: await res.json() }
  }, signedAnswer)
  t.same(replayed, { status: 400, body: { error: 'passkey_refused', message: 'No sign-in waits for this answer; start again' } }, 'a replayed sign-in is refused')
  t.notOk((await other.context.cookies()).some(c => c.name.endsWith('access')))
})
