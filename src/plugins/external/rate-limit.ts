// @fastify/rate-limit, off by default: the routes that check passwords or create accounts, and
// unknown routes, opt in (and plugins/app/password-attempts.ts uses it per account). Counts
// live in this process's memory; the key is the client IP (per /56 for IPv6), as TRUST_PROXY
// decides it.
import fp from 'fastify-plugin'
import fastifyRateLimit from '@fastify/rate-limit'
import { RateLimited } from '../../errors.js'

export default fp(async function rateLimit (app) {
  await app.register(fastifyRateLimit, {
    global: false,
    // The counters live in an LRU map: an attacker spreading guesses over more keys than it holds
    // would push out the counter of the account they target. 100,000 keys is about 10 MB.
    cache: 100_000,
    errorResponseBuilder: (_request, context) => new RateLimited(Math.ceil(context.ttl / 1000))
  })
}, { name: 'rate-limit' })
