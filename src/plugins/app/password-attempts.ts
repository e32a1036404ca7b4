// Brute-force limits for everything that checks a password: the token endpoint, the browser
// login and the password change. OWASP's device-cookie scheme ("Slow down online guessing
// attacks with device cookies"):
// - per client IP, every attempt: RATE_LIMIT_LOGIN a minute (@fastify/rate-limit);
// - per account, the failures of every device it does not know, together: RATE_LIMIT_ACCOUNT in
//   any hour (a sliding window), from all IPs, whatever name (username or email) and whichever
//   route reached the account;
// - a device the account signed in from before (a browser holding its signed device cookie, or
//   an API client at an address it signed in from in the last 30 days) is not held up by that:
//   it has RATE_LIMIT_ACCOUNT failures an hour of its own. So a guesser who keeps the account's
//   window full stops strangers, never the owner on a known device.
// A slot is taken before bcrypt runs, atomically, so that simultaneous guesses cannot all pass
// one check, and a right password gives it back.
// On PostgreSQL (store.shared) the account windows and the known addresses are rows of the
// database, so that every instance counts into the same windows; on SQLite they are this
// process's memory. The per-IP limit stays per process on both (README: Abuse).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import { every } from './every.js'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { RateLimited } from '../../errors.js'
import { bounded, createSharedWindow, createSlidingWindow } from '../../auth/limits.js'
import { cookieNames } from '../external/cookie.js'
import type { PasswordAttempt } from '../../auth/accounts.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * For a password check that is not a login (a password change...): throws rate_limited when
     * this IP has had its share; else the attempt's account limits.
     */
    passwordAttempt (request: FastifyRequest): Promise<PasswordAttempt>
    /**
     * The same for a login, whose refusal by the IP limit is counted as such (the metrics). With
     * a reply (browser login), a success sets the device cookie.
     */
    loginAttempt (request: FastifyRequest, reply?: FastifyReply): Promise<PasswordAttempt>
  }
}

const HOUR = 3_600_000
// How long a device stays known after a successful sign-in.
const DEVICE_TTL_MS = 30 * 24 * HOUR

export default fp(async function passwordAttempts (app) {
  const { RATE_LIMIT_LOGIN, RATE_LIMIT_ACCOUNT, COOKIE_SECURE: secure, JWT_SECRET } = app.config
  const perIp = app.createRateLimit({ max: RATE_LIMIT_LOGIN, timeWindow: 60_000 })
  const { store } = app
  const window = { limit: RATE_LIMIT_ACCOUNT, windowMs: HOUR }
  const strangers = store.shared ? createSharedWindow(store, window) : createSlidingWindow(window)
  const devices = store.shared ? createSharedWindow(store, window) : createSlidingWindow(window)

  // Device cookie: <account id>.<device id>.<HMAC of both>, under a key of its own.
  const cookie = cookieNames(secure).device
  const key = createHmac('sha256', 'authd device\0').update(JWT_SECRET).digest()
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url')
  function deviceOf (value: string | undefined, accountId: string): string | undefined {
    const [account, device, signature, extra] = value?.split('.') ?? []
    if (account !== accountId || device === undefined || signature === undefined || extra !== undefined) return undefined
    const expected = Buffer.from(sign(`${account}.${device}`))
    const given = Buffer.from(signature)
    return given.length === expected.length && timingSafeEqual(given, expected) ? device : undefined
  }

  // API clients: the addresses each account signed in from, and when (in memory, the newest 100,000).
  const addresses = new Map<string, number>()
  const known = store.shared
    ? {
        has: (accountId: string, ip: string, now: number) => store.attempts.addressKnown(accountId, ip, new Date(now - DEVICE_TTL_MS)),
        add: (accountId: string, ip: string, now: number) => store.attempts.rememberAddress(accountId, ip, new Date(now))
      }
    : {
        has (accountId: string, ip: string, now: number) {
          const at = addresses.get(`${accountId} ${ip}`)
          return at !== undefined && now - at < DEVICE_TTL_MS
        },
        add: (accountId: string, ip: string, now: number) => { bounded(addresses, `${accountId} ${ip}`, now) }
      }
  if (store.shared) {
    // Rows past their window count for nothing: gone every ten minutes, by whichever instance.
    every(app, 10 * 60_000, 'password attempts purge', async () => {
      const now = Date.now()
      await store.attempts.purge(new Date(now - HOUR), new Date(now - DEVICE_TTL_MS))
    })
  }

  async function attempt (request: FastifyRequest, reply: FastifyReply | undefined, login: boolean): Promise<PasswordAttempt> {
    const ip = await perIp(request)
    if (!ip.isAllowed && ip.isExceeded) {
      if (login) app.metrics.login('rate_limited')
      throw new RateLimited(ip.ttlInSeconds)
    }
    return {
      async take (accountId: string | null, login: string) {
        const now = Date.now()
        let slot
        if (accountId === null) {
          slot = await strangers.take(`name:${login.toLowerCase()}`, now)
        } else {
          const device = deviceOf(request.cookie(cookie), accountId)
          slot = device !== undefined
            ? await devices.take(`device:${device}`, now)
            : await known.has(accountId, request.ip, now)
              ? await devices.take(`address:${accountId} ${request.ip}`, now)
              : await strangers.take(`account:${accountId}`, now)
        }
        if (!slot.ok) throw new RateLimited(slot.retryAfter)
        return slot
      },
      async succeeded (accountId: string) {
        await known.add(accountId, request.ip, Date.now())
        if (reply === undefined || deviceOf(request.cookie(cookie), accountId) !== undefined) return
        const payload = `${accountId}.${randomBytes(16).toString('base64url')}`
        reply.setCookie(cookie, `${payload}.${sign(payload)}`, {
          httpOnly: true, secure, sameSite: 'strict', path: '/', maxAge: DEVICE_TTL_MS / 1000
        })
      }
    }
  }
  app.decorate('passwordAttempt', (request: FastifyRequest) => attempt(request, undefined, false))
  app.decorate('loginAttempt', (request: FastifyRequest, reply?: FastifyReply) => attempt(request, reply, true))
}, { name: 'password-attempts', dependencies: ['rate-limit', 'cookie', 'store', 'metrics'] })
