// Passkeys at the HTTP level: the options each ceremony starts with, and what an answer that is
// not the right one gets. A real authenticator's ceremonies run in Chromium
// (test/e2e/browser.test.ts): registration, a sign-in with no username, a replayed answer.
import t from 'tap'
import { bearer, Browser, build, enableTotp, PASSWORD, signedIn, signedInAdmin, type App } from '../../helper.js'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

// An answer in the shape @simplewebauthn/browser sends, for a challenge, signed by nothing.
function answer (challenge: string, kind: 'create' | 'get') {
  const clientDataJSON = b64({ type: `webauthn.${kind}`, challenge, origin: 'http://localhost:80', crossOrigin: false })
  const common = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', clientExtensionResults: {} }
  return kind === 'create'
    ? { ...common, response: { clientDataJSON, attestationObject: 'o2NmbXRkbm9uZQ', transports: ['internal'] } }
    : { ...common, response: { clientDataJSON, authenticatorData: 'AAAA', signature: 'AAAA' } }
}

async function registrationOptions (app: App, accessToken: string) {
  const res = await app.inject({ method: 'POST', url: '/auth/passkeys/register/options', headers: bearer(accessToken) })
  t.equal(res.statusCode, 200)
  return res.json()
}

t.test('registration options: this service as the relying party, a discoverable credential, user verification', async t => {
  const app = await build(t, { PUBLIC_URL: 'https://auth.example.test' })
  const { user, tokens } = await signedIn(app)
  t.equal((await app.inject({ method: 'POST', url: '/auth/passkeys/register/options' })).statusCode, 401)
  const options = await registrationOptions(app, tokens.access_token)
  t.match(options, {
    rp: { name: 'authd', id: 'auth.example.test' },
    user: { name: user.username, id: Buffer.from(user.id).toString('base64url') },
    attestation: 'none',
    excludeCredentials: [],
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' }
  })
  t.match(options.challenge, /^[A-Za-z0-9_-]{43}$/)
  t.equal(await app.store.prisma.challenge.count({ where: { kind: 'passkey_register', userId: user.id } }), 1)

  const login = (await app.inject({ method: 'POST', url: '/auth/passkeys/login/options' })).json()
  t.match(login, { rpId: 'auth.example.test', userVerification: 'required' })
  t.notOk(login.allowCredentials?.length, 'no credential listed: the browser offers what it has, no username needed')
})

t.test('an answer to someone else\'s registration, or to none, is refused before any check', async t => {
  const app = await build(t)
  const alice = await signedIn(app)
  const mallory = await signedIn(app)
  const { challenge } = await registrationOptions(app, alice.tokens.access_token)
  const register = (accessToken: string, response: object) =>
    app.inject({ method: 'POST', url: '/auth/passkeys/register', headers: bearer(accessToken), payload: { response } })

  const stolen = await register(mallory.tokens.access_token, answer(challenge, 'create'))
  t.equal(stolen.statusCode, 400)
  t.same(stolen.json(), { error: 'passkey_refused', message: 'No registration of yours waits for this answer; start again' })
  t.equal((await register(alice.tokens.access_token, answer('not-a-challenge-we-made', 'create'))).json().error, 'passkey_refused')
  const forged = await register(alice.tokens.access_token, answer(challenge, 'create'))
  t.equal(forged.json().error, 'passkey_refused', 'the right challenge with no real attestation')
  t.match(forged.json().message, /^The passkey could not be verified/)
  t.equal((await register(alice.tokens.access_token, { id: 'AAAA' })).json().error, 'invalid_request', 'not the shape of an answer')
  t.equal(await app.store.prisma.passkey.count(), 0)
})

t.test('a sign-in answer needs the anonymous CSRF token, a live challenge and a known passkey', async t => {
  const app = await build(t)
  const browser = new Browser(app)
  await browser.request('GET', '/auth/csrf')
  const { challenge } = (await browser.request('POST', '/auth/passkeys/login/options')).json()

  const noCsrf = await browser.request('POST', '/auth/passkeys/login', { payload: { response: answer(challenge, 'get') }, csrf: false })
  t.equal(noCsrf.json().error, 'csrf_rejected')
  const unknownChallenge = await browser.request('POST', '/auth/passkeys/login', { payload: { response: answer('AAAAAAAA', 'get') } })
  t.same(unknownChallenge.json(), { error: 'passkey_refused', message: 'No sign-in waits for this answer; start again' })
  const unknownPasskey = await browser.request('POST', '/auth/passkeys/login', { payload: { response: answer(challenge, 'get') } })
  t.same(unknownPasskey.json(), { error: 'passkey_refused', message: 'This passkey is not known here' })
  t.notOk([...browser.jar.keys()].some(name => name.endsWith('access')), 'no session')
})

t.test('listing and removing: one\'s own passkeys only; an admin sees and removes them', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  const other = await signedIn(app)
  const admin = await signedInAdmin(app)
  await app.store.prisma.passkey.create({ data: { id: 'cred-1', userId: user.id, name: 'Phone', publicKey: 'AAAA', deviceType: 'multiDevice', backedUp: true } })
  await app.store.prisma.passkey.create({ data: { id: 'cred-2', userId: user.id, name: 'Key', publicKey: 'AAAA', deviceType: 'singleDevice' } })

  const listed = (await app.inject({ url: '/auth/passkeys', headers: bearer(tokens.access_token) })).json()
  t.match(listed.passkeys, [{ id: 'cred-1', name: 'Phone', synced: true, lastUsedAt: null }, { id: 'cred-2', name: 'Key', synced: false }])
  t.same((await app.inject({ url: '/auth/passkeys', headers: bearer(other.tokens.access_token) })).json(), { passkeys: [] })
  t.equal((await app.inject({ method: 'DELETE', url: '/auth/passkeys/cred-1', headers: bearer(other.tokens.access_token) })).statusCode, 404, 'not someone else\'s')
  t.equal((await app.inject({ method: 'DELETE', url: '/auth/passkeys/cred-1', headers: bearer(tokens.access_token) })).statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: '/auth/passkeys/cred-1', headers: bearer(tokens.access_token) })).statusCode, 404, 'gone')
  const removed = await app.store.prisma.auditEvent.findFirstOrThrow({ where: { type: 'passkey_removed', userId: user.id } })
  t.same(JSON.parse(removed.detail as string), { passkey: 'cred-1', name: 'Phone' })

  const headers = bearer(admin.tokens.access_token)
  t.same((await app.inject({ url: `/admin/users/${user.id}`, headers })).json().secondFactors, { totp: false, recoveryCodes: 0, passkeys: 1 })
  t.same((await app.inject({ method: 'DELETE', url: `/admin/users/${user.id}/second-factors`, headers })).json(), { totp: false, passkeys: 1 })
  t.equal(await app.store.prisma.passkey.count({ where: { userId: user.id } }), 0)
})

t.test('the page gets the browser side of WebAuthn from this service', async t => {
  const app = await build(t)
  const res = await app.inject('/webauthn.js')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /javascript/)
  t.match(res.body, /SimpleWebAuthnBrowser/)
})

t.test('the second step of a password login takes a passkey answer too, and refuses one it did not ask for', async t => {
  const app = await build(t)
  const { user, tokens } = await signedIn(app)
  await enableTotp(app, tokens.access_token)
  await app.store.prisma.passkey.create({ data: { id: 'cred-1', userId: user.id, name: 'Phone', publicKey: 'AAAA', deviceType: 'multiDevice' } })
  const browser = new Browser(app)
  await browser.request('GET', '/auth/csrf')
  const first = await browser.request('POST', '/auth/login', { payload: { username: user.username, password: PASSWORD } })
  t.same(first.json(), { mfaRequired: true, methods: ['totp', 'recovery_code', 'passkey'] }, 'a user with a passkey is offered it')
  const { challenge } = (await browser.request('POST', '/auth/passkeys/login/options')).json()
  const refused = await browser.request('POST', '/auth/login/mfa', { payload: { response: { ...answer(challenge, 'get'), id: 'cred-1', rawId: 'cred-1' } } })
  t.equal(refused.json().error, 'passkey_refused', 'an answer that was not signed by the passkey')
  t.notOk([...browser.jar.keys()].some(name => name.endsWith('access')))
})
