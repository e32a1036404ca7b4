// Browser mode: the tokens travel only in HttpOnly cookies that no script can read.
// Access cookie: SameSite=Lax, Path=/. Refresh cookie: SameSite=Strict, Path=/auth, so that it
// goes nowhere but the auth routes. With COOKIE_SECURE (the default) both are Secure and carry
// the __Host- / __Secure- prefixes, which a browser refuses to let another (sub)domain set.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type { CookieSerializeOptions } from '@fastify/cookie'
import { cookieNames } from '../external/cookie.js'
import type { IssuedTokens } from '../../auth/sessions.js'
import { toPublicUser } from '../../schemas/user.js'
import type { BrowserSession } from '../../schemas/session.js'

declare module 'fastify' {
  interface FastifyReply {
    /** Sets both cookies and returns the body browser mode answers with. A login rotates the CSRF secret. */
    startBrowserSession (issued: IssuedTokens, options?: { rotateCsrf?: boolean }): BrowserSession
    clearSessionCookies (): FastifyReply
  }
  interface FastifyRequest {
    /** The access token from its cookie, if the browser sent one. */
    accessCookie (): string | undefined
    /** The refresh token from its cookie, if the browser sent one. */
    refreshCookie (): string | undefined
  }
}

export default fp(async function sessionCookies (app) {
  const secure = app.config.COOKIE_SECURE
  const names = cookieNames(secure)
  const access: CookieSerializeOptions = { httpOnly: true, secure, sameSite: 'lax', path: '/' }
  const refresh: CookieSerializeOptions = { httpOnly: true, secure, sameSite: 'strict', path: '/auth' }

  app.decorateReply('startBrowserSession', function (issued: IssuedTokens, options: { rotateCsrf?: boolean } = {}) {
    this.setCookie(names.access, issued.accessToken, { ...access, maxAge: issued.expiresIn })
      .setCookie(names.refresh, issued.refreshToken, { ...refresh, maxAge: issued.refreshExpiresIn })
    return {
      user: toPublicUser(issued.user),
      expiresAt: new Date(Date.now() + issued.expiresIn * 1000).toISOString(),
      csrfToken: this.csrfToken(issued.session.id, options.rotateCsrf)
    }
  })
  // The same names, paths and attributes, expired: anything else would leave the cookies set.
  app.decorateReply('clearSessionCookies', function () {
    return this.clearCookie(names.access, access).clearCookie(names.refresh, refresh)
  })
  // An empty cookie is no cookie.
  const read = (request: FastifyRequest, name: string) => {
    const value = request.cookie(name)
    return value === undefined || value === '' ? undefined : value
  }
  app.decorateRequest('accessCookie', function () { return read(this, names.access) })
  app.decorateRequest('refreshCookie', function () { return read(this, names.refresh) })
}, { name: 'session-cookies', dependencies: ['cookie', 'csrf'] })
