// Builds the whole app, as service.ts does, on a SQLite file of its own per test (a copy of one
// migrated database, below), or with TEST_ENGINE=postgres a PostgreSQL database of its own
// (./postgres.ts), for app.inject().
import { createHmac, randomUUID } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { DestinationStream } from 'pino'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { migrate } from '../src/store/migrate.js'
import { onPostgres, postgresDatabase } from './postgres.js'
import { Secret, TOTP } from 'otpauth'
import { MFA_OTP_GRANT } from '../src/schemas/mfa.js'
import type { Tracing } from '../src/telemetry/tracing.js'

export { engine, onPostgres } from './postgres.js'

export const TEST_SECRET = 'a-test-secret-of-more-than-thirty-two-bytes'
export const PASSWORD = 'correct horse battery staple'

export type App = ReturnType<typeof buildApp>

export function tempDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'authd-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function testEnv (dir: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: `file:${join(dir, 'auth.db')}`,
    JWT_SECRET: TEST_SECRET,
    // Tests check behaviour, not hashing cost; production refuses fewer than 10 rounds.
    BCRYPT_ROUNDS: '4',
    PASSWORD_WORKERS: '1',
    // Tests log in far more often than a person; the rate-limit tests set their own.
    RATE_LIMIT_LOGIN: '100000',
    RATE_LIMIT_ACCOUNT: '1000',
    RATE_LIMIT_REFRESH: '100000',
    RATE_LIMIT_REGISTER: '100000',
    RATE_LIMIT_NOT_FOUND: '100000',
    RATE_LIMIT_MAIL: '100000',
    RATE_LIMIT_MAIL_REQUEST: '100000',
    ...env
  }
}

// One database migrated per test process, and a copy of it for each app built without a folder
// of its own: the real migrations on real SQLite, applied once. Where the start itself is tested
// (test/plugins/external/prisma.test.ts, the process tests), the app migrates as in production,
// on its worker thread.
let template: Promise<string> | undefined
function migratedTemplate (): Promise<string> {
  template ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authd-template-'))
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    await migrate(`file:${join(dir, 'auth.db')}`)
    return join(dir, 'auth.db')
  })()
  return template
}

export async function build (t: Test, env: Record<string, string> = {}, options: { dir?: string, logStream?: DestinationStream, tracing?: Tracing } = {}): Promise<App> {
  let dir = options.dir
  if (onPostgres) {
    env = { DATABASE_URL: await postgresDatabase(dir), ...env }
    dir ??= tempDir(t)
  } else if (dir === undefined) {
    dir = tempDir(t)
    copyFileSync(await migratedTemplate(), join(dir, 'auth.db'))
  }
  const app = buildApp(loadConfig(testEnv(dir, env)), { logStream: options.logStream, tracing: options.tracing })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

let counter = 0
export function newUser (overrides: Partial<{ username: string, email: string, password: string }> = {}) {
  const n = ++counter
  return { username: `user${n}`, email: `user${n}@example.com`, password: PASSWORD, ...overrides }
}

export async function register (app: App, user = newUser()) {
  const res = await app.inject({ method: 'POST', url: '/auth/register', payload: user })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  return { ...user, id: res.json().id as string }
}

/** Logs in through the token endpoint with a form, as the FastAPI tutorials' clients do. */
export async function token (app: App, username: string, password = PASSWORD, extra: Record<string, string> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ username, password, ...extra }).toString()
  })
  if (res.statusCode !== 200) throw new Error(`token failed: ${res.statusCode} ${res.body}`)
  return res.json() as { access_token: string, token_type: string, expires_in: number, refresh_token: string, scope: string }
}

export const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` })

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

export function decodeJwt (jwt: string) {
  const [header, payload] = jwt.split('.').slice(0, 2).map(part => JSON.parse(Buffer.from(part, 'base64url').toString()))
  return { header, payload }
}

/**
 * Signs a token by hand, so that tests can build every malformed or hostile variant without
 * going through the library the service itself uses.
 */
export function forge (
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  sign: (input: string) => string = input => createHmac('sha256', TEST_SECRET).update(input).digest('base64url')
): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  return `${input}.${sign(input)}`
}

/** Claims like the service's own, valid for the next 15 minutes. */
export function claims (overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000)
  return { sub: randomUUID(), sid: randomUUID(), jti: randomUUID(), scope: 'profile', iss: 'authd', aud: 'authd', iat: now, exp: now + 900, ...overrides }
}

export type Tokens = Awaited<ReturnType<typeof token>> & { refresh_token: string }

export async function refresh (app: App, refreshToken: string, extra: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: refreshToken, ...extra } })
}

/** Registers a user and logs in once; returns both. */
export async function signedIn (app: App, user = newUser()) {
  const registered = await register(app, user)
  return { user: registered, tokens: await token(app, registered.username) as Tokens }
}

/** The status of an authenticated GET with this access token. */
export async function statusWith (app: App, accessToken: string, url = '/secure-data') {
  return (await app.inject({ url, headers: bearer(accessToken) })).statusCode
}

/** The origin app.inject() requests come from by default (Host: localhost:80). */
export const ORIGIN = 'http://localhost:80'

/**
 * A browser, as far as the service can tell: a cookie jar filled from Set-Cookie, sent back
 * as Cookie, with the page's Origin and its CSRF token on unsafe requests.
 */
export class Browser {
  jar = new Map<string, string>()
  csrfToken: string | undefined
  constructor (readonly app: App, readonly origin = ORIGIN) {}

  async request (method: string, url: string, options: { payload?: object | string, headers?: Record<string, string>, csrf?: boolean } = {}) {
    const headers: Record<string, string> = { origin: this.origin, ...options.headers }
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ')
    if (options.csrf !== false && this.csrfToken !== undefined && method !== 'GET') headers['x-csrf-token'] ??= this.csrfToken
    const res = await this.app.inject({ method: method as 'GET', url, headers, payload: options.payload })
    for (const cookie of res.cookies as Array<{ name: string, value: string, maxAge?: number }>) {
      if (cookie.maxAge === 0 || cookie.value === '') this.jar.delete(cookie.name)
      else this.jar.set(cookie.name, cookie.value)
    }
    const body = String(res.headers['content-type']).includes('json') ? res.json() : undefined
    if (typeof body?.csrfToken === 'string') this.csrfToken = body.csrfToken
    return res
  }

  /** The login form; with `totp`, its second step too. */
  async login (username: string, password = PASSWORD, totp?: Totp) {
    await this.request('GET', '/auth/csrf')
    let res = await this.request('POST', '/auth/login', { payload: { username, password } })
    if (totp !== undefined && res.statusCode === 200 && res.json().mfaRequired === true) {
      res = await this.request('POST', '/auth/login/mfa', { payload: { code: nextCode(totp) } })
    }
    if (res.statusCode !== 200 || res.json().mfaRequired === true) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
    return res
  }
}

/** The 30-second step of a time (ms), as authenticator apps count them. */
export const totpStep = (ms: number) => Math.floor(ms / 30_000)

/** An authenticator app's code for a step: otpauth's, not the service's own (src/auth/totp.ts). */
export const totpCode = (secret: string, step: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: step * 30_000 })

/** A user's authenticator app, as a test holds it: its secret, its recovery codes left, the last step used. */
export interface Totp { secret: string, recoveryCodes: string[], lastStep: number }

/** Sets up and confirms an authenticator app for the holder of `accessToken`. */
export async function enableTotp (app: App, accessToken: string): Promise<Totp> {
  const setup = await app.inject({ method: 'POST', url: '/auth/mfa/totp', headers: bearer(accessToken) })
  if (setup.statusCode !== 200) throw new Error(`totp setup failed: ${setup.statusCode} ${setup.body}`)
  const { secret } = setup.json() as { secret: string }
  const step = totpStep(Date.now())
  const confirmed = await app.inject({ method: 'POST', url: '/auth/mfa/totp/confirm', headers: bearer(accessToken), payload: { code: totpCode(secret, step) } })
  if (confirmed.statusCode !== 200) throw new Error(`totp confirm failed: ${confirmed.statusCode} ${confirmed.body}`)
  return { secret, recoveryCodes: confirmed.json().recoveryCodes, lastStep: step }
}

/**
 * A code the service will take once: the app's next unused step while it is within the step of
 * drift allowed, else a recovery code.
 */
export function nextCode (totp: Totp): string {
  const step = Math.max(totp.lastStep + 1, totpStep(Date.now()) - 1)
  if (step <= totpStep(Date.now()) + 1) {
    totp.lastStep = step
    return totpCode(totp.secret, step)
  }
  const code = totp.recoveryCodes.shift()
  if (code === undefined) throw new Error('no code left')
  return code
}

/** The password grant, then the mfa-otp grant with the next code: a client's whole login. */
export async function tokenWithCode (app: App, username: string, totp: Totp, extra: Record<string, string> = {}) {
  const first = await formPost(app, '/auth/token', { username, password: PASSWORD, ...extra })
  if (first.statusCode !== 403) throw new Error(`expected mfa_required: ${first.statusCode} ${first.body}`)
  const res = await formPost(app, '/auth/token', { grant_type: MFA_OTP_GRANT, mfa_token: first.json().mfa_token, otp: nextCode(totp) })
  if (res.statusCode !== 200) throw new Error(`mfa-otp failed: ${res.statusCode} ${res.body}`)
  return res.json() as Tokens
}

/**
 * A registered user made admin, with an authenticator app, signed in through the token
 * endpoint with a code: the admin scopes need a second factor (MFA_REQUIRED_SCOPES).
 */
export async function signedInAdmin (app: App, user = newUser()) {
  const registered = await register(app, user)
  await app.store.prisma.userRole.create({ data: { userId: registered.id, role: 'admin' } })
  const totp = await enableTotp(app, (await token(app, registered.username)).access_token)
  return { user: registered, totp, tokens: await tokenWithCode(app, registered.username, totp) }
}

/** A machine client registered through the domain (as the CLI does); its id and, for a secret-based one, its secret. */
export async function registeredClient (app: App, registration: { name?: string, scopes?: string[], authMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt', jwks?: { keys: Array<Record<string, unknown>> } } = {}) {
  const { client, secret } = await app.clients.register({ id: null, sessionId: null, ip: null, userAgent: 'test' }, { name: 'test client', scopes: ['tokens:introspect'], ...registration })
  return { id: client.id, secret: secret as string }
}

/** HTTP Basic for a client, its id and secret form-encoded first (RFC 6749 §2.3.1). */
export const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` })

/** A form POST, as OAuth clients send them. */
export function formPost (app: App, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(fields).toString() })
}

/** A client-credentials token of a secret-based client, by Basic. */
export async function clientToken (app: App, client: { id: string, secret: string }, scope?: string) {
  const res = await formPost(app, '/auth/token', { grant_type: 'client_credentials', ...(scope !== undefined && { scope }) }, basic(client.id, client.secret))
  if (res.statusCode !== 200) throw new Error(`client token failed: ${res.statusCode} ${res.body}`)
  return res.json() as { access_token: string, token_type: string, expires_in: number, scope: string }
}
