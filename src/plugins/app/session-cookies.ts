// Browser mode: the tokens travel only in HttpOnly cookies that no script can read.
// Access cookie: SameSite=Lax, Path=/. Refresh cookie: SameSite=Strict, Path=/auth, so that it
// goes nowhere but the auth routes. With COOKIE_SECURE (the default) both are Secure and carry
// the __Host- / __Secure- prefixes, which a browser refuses to let another (sub)domain set.
// A login that waits for its second factor holds its handle in a third, SameSite=Strict cookie
// that goes only to /auth/login (and so to /auth/login/mfa), for as long as the handle works.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type { CookieSerializeOptions } from '@fastify/cookie'
import { cookieNames } from '../external/cookie.js'
import type { IssuedTokens, PendingLogin } from '../../auth/sessions.js'
import { toPublicUser } from '../../schemas/user.js'
import type { BrowserSession } from '../../schemas/session.js'
import type { Static } from '@sinclair/typebox'
import type { MfaChallenge } from '../../schemas/mfa.js'

declare module 'fastify' {
  interface FastifyReply {
    /** Sets both cookies and returns the body browser mode answers with. A login rotates the CSRF secret. */
    startBrowserSession (issued: IssuedTokens, options?: { rotateCsrf?: boolean }): BrowserSession
    clearSessionCookies (): FastifyReply
    /** Sets the pending login's cookie and returns the body that asks for the second factor. */
    awaitSecondFactor (pending: PendingLogin): Static<typeof MfaChallenge>
  }
  interface FastifyRequest {
    /** The access token from its cookie, if the browser sent one. */
    accessCookie (): string | undefined
    /** The refresh token from its cookie, if the browser sent one. */
    refreshCookie (): string | undefined
    /** The handle of the login waiting for its second factor, if the browser sent one. */
    pendingLoginCookie (): string | undefined
  }
}

export default fp(async function sessionCookies (app) {
  const secure = app.config.COOKIE_SECURE
  const names = cookieNames(secure)
  const access: CookieSerializeOptions = { httpOnly: true, secure, sameSite: 'lax', path: '/' }
  const refresh: CookieSerializeOptions = { httpOnly: true, secure, sameSite: 'strict', path: '/auth' }
  const pendingLogin: CookieSerializeOptions = { httpOnly: true, secure, sameSite: 'strict', path: '/auth/login' }

  app.decorateReply('startBrowserSession', function (issued: IssuedTokens, options: { rotateCsrf?: boolean } = {}) {
    this.setCookie(names.access, issued.accessToken, { ...access, maxAge: issued.expiresIn })
      .setCookie(names.refresh, issued.refreshToken, { ...refresh, maxAge: issued.refreshExpiresIn })
    if (read(this.request, names.pendingLogin) !== undefined) this.clearCookie(names.pendingLogin, pendingLogin)
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
  app.decorateReply('awaitSecondFactor', function (pending: PendingLogin) {
    this.setCookie(names.pendingLogin, pending.mfaToken, { ...pendingLogin, maxAge: pending.expiresIn })
    return { mfaRequired: true as const, methods: pending.methods }
  })
  // An empty cookie is no cookie.
  const read = (request: FastifyRequest, name: string) => {
    const value = request.cookie(name)
    return value === undefined || value === '' ? undefined : value
  }
  app.decorateRequest('accessCookie', function () { return read(this, names.access) })
  app.decorateRequest('refreshCookie', function () { return read(this, names.refresh) })
  app.decorateRequest('pendingLoginCookie', function () { return read(this, names.pendingLogin) })
}, { name: 'session-cookies', dependencies: ['cookie', 'csrf'] })
