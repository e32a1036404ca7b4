// @fastify/cookie without its parsing hook: most requests, every bearer one, read no cookie, and
// the hook would cost each of them a parse and two allocations. request.cookie() parses the
// header on first use instead.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import fastifyCookie from '@fastify/cookie'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The value of the named cookie the client sent, if it sent exactly one of that name. Read
     * cookies with this: request.cookies stays null until something parses the header.
     */
    cookie (name: string): string | undefined
  }
}

/**
 * The names of every cookie the service sets, in one place. With COOKIE_SECURE they carry the
 * __Host- and __Secure- prefixes, which a browser refuses to let another (sub)domain set (the
 * refresh cookie's Path=/auth rules out __Host-); without it, plain names.
 */
export function cookieNames (secure: boolean) {
  return secure
    ? { access: '__Host-access', refresh: '__Secure-refresh', csrf: '__Host-csrf', device: '__Host-device', pendingLogin: '__Secure-mfa' }
    : { access: 'access', refresh: 'refresh', csrf: 'csrf', device: 'device', pendingLogin: 'mfa' }
}

const sentAs = new Map<string, RegExp>()

/**
 * True when the header carries the name more than once. A sibling subdomain can set a cookie of
 * our name with its own Domain (cookie tossing: the __Secure- prefix does not stop it), and a
 * browser then sends both, in an order the attacker can influence. Parsers keep the first;
 * request.cookie() keeps neither.
 */
export function sentTwice (header: string, name: string): boolean {
  // Nearly always the name is there once: two substring searches say so without the pattern.
  if (header.indexOf(name) === header.lastIndexOf(name)) return false
  let pattern = sentAs.get(name)
  if (pattern === undefined) {
    pattern = new RegExp(`(?:^|;)[ \\t]*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[ \\t]*=`, 'g')
    sentAs.set(name, pattern)
  }
  pattern.lastIndex = 0
  return pattern.test(header) && pattern.test(header)
}

export default fp(async function cookie (app) {
  await app.register(fastifyCookie, { hook: false })
  app.decorateRequest('cookie', function (this: FastifyRequest, name: string) {
    const header = this.headers.cookie ?? ''
    // reply.setCookie() fills request.cookies from the header too, so whichever comes first parses.
    this.cookies ??= app.parseCookie(header)
    const value = this.cookies[name]
    return value === undefined || sentTwice(header, name) ? undefined : value
  })
}, { name: 'cookie' })
