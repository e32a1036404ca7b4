// private_key_jwt (RFC 7523 §2.2, as OpenID Connect Core §9 profiles it): the client signs a
// short JWT with a key of its own, whose public half it registered. The assertion must name the
// client as `iss` and `sub`, this server (its token endpoint or issuer) as `aud`, expire soon,
// and carry a `jti` that the caller records so that it is accepted once.
import { createLocalJWKSet, importJWK, jwtVerify, errors, type JWK } from 'jose'

/** Signature algorithms a client may sign its assertions with: asymmetric only. */
export const ASSERTION_ALGS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const

/**
 * The longest an assertion may live, and so what the replay check must remember: an hour, what
 * client libraries sign by default (Authlib does).
 */
export const MAX_ASSERTION_LIFETIME_S = 3600

const CLOCK_TOLERANCE_S = 30

export type ClientJwks = { keys: Array<Record<string, unknown>> }

export class BadJwks extends Error {}

/** Checks a JWK set a client registers: public keys only, each of a kind its algorithms can use. */
export async function checkJwks (jwks: ClientJwks): Promise<void> {
  if (jwks.keys.length === 0) throw new BadJwks('jwks has no keys')
  for (const [i, jwk] of jwks.keys.entries()) {
    if ('d' in jwk || 'k' in jwk || 'p' in jwk) throw new BadJwks(`jwks.keys[${i}] holds private or secret material: register the public key only`)
    if (!['EC', 'OKP', 'RSA'].includes(jwk.kty as string)) throw new BadJwks(`jwks.keys[${i}] has kty ${String(jwk.kty)}: EC, OKP or RSA only`)
    const alg = typeof jwk.alg === 'string' ? jwk.alg : jwk.kty === 'EC' ? (jwk.crv === 'P-384' ? 'ES384' : 'ES256') : jwk.kty === 'OKP' ? 'EdDSA' : 'RS256'
    if (!(ASSERTION_ALGS as readonly string[]).includes(alg)) throw new BadJwks(`jwks.keys[${i}] has alg ${alg}: one of ${ASSERTION_ALGS.join(', ')}`)
    try {
      await importJWK(jwk as JWK, alg)
    } catch {
      throw new BadJwks(`jwks.keys[${i}] is not a usable ${alg} public key`)
    }
  }
}

/** Why an assertion was refused, for the log; never for the client, who gets invalid_client. */
export class BadAssertion extends Error {}

/** Verifies an assertion of `clientId` against its keys; its jti and expiry (ms) for the replay check. */
export async function verifyAssertion (assertion: string, clientId: string, jwks: ClientJwks, audiences: string[], now: number): Promise<{ jti: string, expiresAt: number }> {
  let payload
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(jwks as { keys: JWK[] }), {
      issuer: clientId,
      subject: clientId,
      audience: audiences,
      algorithms: [...ASSERTION_ALGS],
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_S,
      currentDate: new Date(now)
    }))
  } catch (err) {
    if (err instanceof errors.JOSEError) throw new BadAssertion(err.code)
    throw new BadAssertion('malformed')
  }
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) throw new BadAssertion('jti')
  if (payload.exp! * 1000 > now + MAX_ASSERTION_LIFETIME_S * 1000 + CLOCK_TOLERANCE_S * 1000) throw new BadAssertion('lifetime')
  return { jti: payload.jti, expiresAt: payload.exp! * 1000 + CLOCK_TOLERANCE_S * 1000 }
}
