// The OAuth 2.0 token endpoint for API clients (RFC 6749 §4.3 password grant, §6 refresh) and
// machine clients (§4.4 client credentials). Form-encoded as the RFC says, or JSON; a missing
// grant_type means "password", as the clients of the FastAPI tutorials send it. Never sets a
// cookie. The password and refresh grants are for public clients: client credentials sent
// with them are not read. A user with a second factor gets 403 mfa_required and an mfa_token
// from the password grant, to send back with a code by the mfa-otp grant.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { formsOnly } from '../../plugins/app/bodies.js'
import { OAuthErrorReply } from '../../schemas/common.js'
import { TokenRequest, TokenResponse, tokenResponse } from '../../schemas/token.js'
import { parseScope } from '../../roles.js'
import { InvalidCode, InvalidGrant, InvalidMfaToken, InvalidRequest, UnsupportedGrantType } from '../../errors.js'
import { MFA_OTP_GRANT, MfaRequiredReply } from '../../schemas/mfa.js'
import { clientOf } from '../../schemas/audit.js'

const missing = (value: string | undefined): value is undefined => value === undefined || value === ''

const token: FastifyPluginAsyncTypebox = async (app) => {
  // Forms are parsed only in this scope: elsewhere a form body cannot stand in for JSON.
  await app.register(formsOnly)

  app.post('/token', {
    config: { oauthErrors: true },
    // With the app-wide Cache-Control: no-store, what RFC 6749 §5.1 asks of token responses.
    onRequest: async (_request, reply) => { reply.header('pragma', 'no-cache') },
    schema: {
      summary: 'OAuth 2.0 token endpoint: password, refresh_token, client_credentials and mfa-otp grants',
      description: 'client_credentials: the client authenticates by HTTP Basic (client_secret_basic), client_id and client_secret in the body (client_secret_post), or client_assertion (private_key_jwt); the answer has no refresh token.',
      tags: ['auth'],
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: TokenRequest,
      response: {
        200: TokenResponse,
        400: OAuthErrorReply,
        401: OAuthErrorReply,
        // mfa_required with its mfa_token; or email_not_verified (REQUIRE_EMAIL_VERIFICATION).
        403: Type.Union([MfaRequiredReply, OAuthErrorReply]),
        429: OAuthErrorReply,
        503: OAuthErrorReply
      }
    }
  }, async (request, reply) => {
    const { grant_type: grantType, username, password, scope, refresh_token: refreshToken } = request.body
    // A parameter sent without a value is as good as omitted (RFC 6749 §3.1).
    const grant = missing(grantType) ? 'password' : grantType
    const requested = parseScope(scope)

    if (grant === 'refresh_token') {
      if (missing(refreshToken)) throw new InvalidRequest('refresh_token is required')
      return tokenResponse(await app.sessions.refresh(refreshToken, requested, clientOf(request)))
    }
    if (grant === 'client_credentials') {
      const client = await app.authenticateClient(request, request.body)
      const issued = app.clients.issue(client, requested)
      return { access_token: issued.accessToken, token_type: 'Bearer' as const, expires_in: issued.expiresIn, scope: issued.scope }
    }
    if (grant === MFA_OTP_GRANT) {
      const { mfa_token: mfaToken, otp } = request.body
      if (missing(mfaToken) || missing(otp)) throw new InvalidRequest('mfa_token and otp are required')
      const attempt = await app.loginAttempt(request)
      try {
        return tokenResponse(await app.sessions.secondFactor(mfaToken, otp, { ...clientOf(request), via: 'api' }, attempt))
      } catch (err) {
        if (err instanceof InvalidMfaToken) throw new InvalidGrant('The mfa_token is invalid, used or expired; log in again')
        if (err instanceof InvalidCode) throw new InvalidGrant('The one-time code is wrong or was already used')
        throw err
      }
    }
    if (grant !== 'password') throw new UnsupportedGrantType(`grant_type must be password, refresh_token, client_credentials or ${MFA_OTP_GRANT}`)
    if (missing(username) || missing(password)) throw new InvalidRequest('username and password are required')

    const attempt = await app.loginAttempt(request)
    const issued = await app.sessions.login(username, password, requested, { ...clientOf(request), via: 'api' }, attempt)
    if (issued === null) throw new InvalidGrant('Invalid username or password')
    if ('mfaToken' in issued) {
      return reply.code(403).send({ error: 'mfa_required' as const, error_description: 'A second factor is required: send a code with the mfa_token', mfa_token: issued.mfaToken })
    }
    return tokenResponse(issued)
  })
}

export default token
