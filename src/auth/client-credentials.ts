// Reading how a request authenticates as a client (RFC 6749 §2.3, RFC 7523 §2.2): HTTP Basic
// with the id and secret form-encoded first (§2.3.1), client_id and client_secret in the body,
// or a client assertion. More than one way in one request is refused, as §2.3 requires.
import { InvalidClient, InvalidRequest } from '../errors.js'
import type { ClientCredentials } from './clients.js'

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

export interface CredentialFields {
  client_id?: string
  client_secret?: string
  client_assertion_type?: string
  client_assertion?: string
}

const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i

// application/x-www-form-urlencoded decoding: '+' is a space.
function formDecode (part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '))
  } catch {
    throw new InvalidClient()
  }
}

const given = (value: string | undefined): value is string => value !== undefined && value !== ''

/** The credentials the request presents, or undefined when it presents none. */
export function clientCredentials (authorization: string | undefined, body: CredentialFields): ClientCredentials | undefined {
  const basic = authorization === undefined ? null : BASIC.exec(authorization)
  const found: ClientCredentials[] = []
  if (basic !== null) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon === -1) throw new InvalidClient()
    found.push({ method: 'client_secret_basic', clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) })
  }
  if (given(body.client_secret)) {
    if (!given(body.client_id)) throw new InvalidRequest('client_secret needs client_id')
    found.push({ method: 'client_secret_post', clientId: body.client_id, secret: body.client_secret })
  }
  if (given(body.client_assertion) || given(body.client_assertion_type)) {
    if (body.client_assertion_type !== JWT_BEARER_ASSERTION) throw new InvalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`)
    if (!given(body.client_assertion)) throw new InvalidRequest('client_assertion is required')
    const payload = body.client_assertion.split('.')[1]
    let iss: unknown
    try {
      iss = (JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as { iss?: unknown }).iss
    } catch {
      throw new InvalidClient()
    }
    if (typeof iss !== 'string' || iss === '') throw new InvalidClient()
    // client_id, when sent with an assertion, must name the same client (RFC 7521 §4.2).
    if (given(body.client_id) && body.client_id !== iss) throw new InvalidClient()
    found.push({ method: 'private_key_jwt', clientId: iss, assertion: body.client_assertion })
  }
  if (found.length > 1) throw new InvalidRequest('Use one client authentication method per request')
  if (found.length === 1 && basic !== null && given(body.client_id) && body.client_id !== found[0].clientId) throw new InvalidClient()
  return found[0]
}
