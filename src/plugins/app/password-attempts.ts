// Brute-force limits for everything that checks a password. Two counters:
// - per client IP, every attempt (RATE_LIMIT_LOGIN a minute);
// - per account, failed attempts only, from every IP together (RATE_LIMIT_ACCOUNT an hour), so
//   that rotating addresses gains an attacker nothing. It is checked before bcrypt runs, so no
//   more than that many guesses a hour reach it. The owner is slowed while someone guesses,
//   never locked out for good: the window slides on.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { RateLimited } from '../../errors.js'

export interface Attempt {
  /** Counts this attempt against the account: call it when the password was wrong. */
  failed (): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Throws rate_limited when this IP or this account has had its share. */
    passwordAttempt (request: FastifyRequest, account: string): Promise<Attempt>
  }
}

export default fp(async function passwordAttempts (app) {
  const { RATE_LIMIT_LOGIN, RATE_LIMIT_ACCOUNT } = app.config
  const accounts = new WeakMap<FastifyRequest, string>()
  const perIp = app.createRateLimit({ max: RATE_LIMIT_LOGIN, timeWindow: 60_000 })
  const perAccount = app.createRateLimit({
    max: RATE_LIMIT_ACCOUNT,
    timeWindow: 3_600_000,
    keyGenerator: request => `account:${accounts.get(request) ?? ''}`
  })

  app.decorate('passwordAttempt', async function (request: FastifyRequest, account: string): Promise<Attempt> {
    const ip = await perIp(request)
    if (!ip.isAllowed && ip.isExceeded) throw new RateLimited(ip.ttlInSeconds)
    accounts.set(request, account)
    // A peek: only failures count. With RATE_LIMIT_ACCOUNT failures recorded, the next
    // attempt is refused before it reaches bcrypt.
    const failures = await perAccount(request, { increment: false })
    if (!failures.isAllowed && failures.remaining === 0) throw new RateLimited(Math.max(1, failures.ttlInSeconds))
    return { failed: async () => { await perAccount(request) } }
  })
}, { name: 'password-attempts', dependencies: ['rate-limit'] })
