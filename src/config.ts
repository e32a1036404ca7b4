// The service's whole configuration: one TypeBox schema over the environment. This is the only
// module that reads process.env; everything else receives the typed result.
import { createPrivateKey, randomBytes, type JsonWebKey } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { SCOPE_DESCRIPTIONS, type Scope } from './roles.js'

const Seconds = (fallback: number, description: string, minimum = 1) =>
  Type.Integer({ minimum, maximum: 10 * 365 * 24 * 3600, default: fallback, description })

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  HOST: Type.String({ minLength: 1, default: 'localhost', description: 'Address to listen on; 0.0.0.0 in a container' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }),
  DATABASE_URL: Type.String({
    pattern: '^(file:.+|[pP][oO][sS][tT][gG][rR][eE][sS]([qQ][lL])?://.+)$',
    default: 'file:./data/auth.db',
    description: 'file:<path> for SQLite (relative to the working directory), or postgres://user:password@host:port/database (libpq URL parameters such as sslmode accepted)'
  }),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'PostgreSQL: connections per instance' }),
  DATABASE_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000, description: 'PostgreSQL: how long a statement may run before it is cancelled' }),
  DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000, description: 'PostgreSQL: how long to wait for a connection' }),
  JWT_SECRET: Type.Optional(Type.String({ description: 'The service secret, at least 32 bytes; required in production: the HS256 key, and what seals the signing keys at rest' })),
  JWT_ALG: Type.Union([Type.Literal('ES256'), Type.Literal('EdDSA'), Type.Literal('RS256'), Type.Literal('HS256')], {
    default: 'ES256',
    description: 'How access tokens are signed: ES256, EdDSA (Ed25519) or RS256 with keys the service generates and publishes at /.well-known/jwks.json; HS256 with JWT_SECRET'
  }),
  JWT_KEY_ROTATION: Seconds(30 * 24 * 3600, 'How long a signing key signs before the next one takes over', 3600),
  JWKS_MAX_AGE: Seconds(600, 'How long resource servers may cache the JWKS: a new key is published this long before it signs', 0),
  JWT_KEYS_FILE: Type.String({ default: '', description: 'A private JWK set ({"keys": [...]}) to sign with instead of generated keys; the first key signs, the others verify' }),
  JWT_ISSUER: Type.String({ minLength: 1, default: 'authd' }),
  JWT_AUDIENCE: Type.String({ minLength: 1, default: 'authd' }),
  ACCESS_TOKEN_TTL: Seconds(900, 'Access-token lifetime'),
  REFRESH_TOKEN_TTL: Seconds(30 * 24 * 3600, 'Refresh-token lifetime; each use rotates it'),
  REFRESH_REUSE_GRACE: Seconds(10, 'How long a used refresh token may be retried before a reuse revokes its session', 0),
  SESSION_TTL: Seconds(90 * 24 * 3600, 'Absolute lifetime of a login session'),
  BCRYPT_ROUNDS: Type.Integer({ minimum: 4, maximum: 31, default: 12 }),
  PASSWORD_WORKERS: Type.Integer({ minimum: 0, maximum: 256, default: 0, description: 'bcrypt worker threads; 0 means one per CPU' }),
  COOKIE_SECURE: Type.Boolean({ default: true, description: 'false only for plain-HTTP development: drops Secure and the __Host-/__Secure- prefixes' }),
  PUBLIC_URL: Type.String({
    default: '',
    pattern: '^$|^https?://[^/?#@\\s]+/?$',
    description: "The service's external origin (scheme://host[:port]), e.g. https://auth.example.com: its own origin for the CSRF check; unset, the Host header says it"
  }),
  CORS_ORIGINS: Type.String({
    default: '',
    pattern: '^$|^https?://[^/,\\s]+(,\\s*https?://[^/,\\s]+)*$',
    description: 'Comma-separated origins (scheme://host[:port]) allowed to call with credentials'
  }),
  RATE_LIMIT_LOGIN: Type.Integer({ minimum: 1, default: 20, description: 'Password attempts (token, login, password change) per client IP per minute' }),
  RATE_LIMIT_ACCOUNT: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 30,
    description: 'Failed password attempts per account in any hour from the devices it does not know, together; and per known device'
  }),
  RATE_LIMIT_REFRESH: Type.Integer({ minimum: 1, default: 30, description: 'Refresh-token rotations per session per minute' }),
  RATE_LIMIT_CLIENT: Type.Integer({ minimum: 1, default: 6000, description: 'Token requests and introspections per machine client per minute' }),
  RATE_LIMIT_CLIENT_AUTH: Type.Integer({ minimum: 1, default: 20, description: 'Failed authentications per machine client id per minute' }),
  CLIENT_SECRET_GRACE: Seconds(24 * 3600, 'How long a rotated client secret keeps working, unless the rotation says otherwise', 0),
  SMTP_URL: Type.String({
    default: '',
    pattern: '^$|^smtps?://[^\\s]+$',
    description: 'The SMTP server mail goes through: smtp://user:password@host:587 (STARTTLS when offered) or smtps://...:465; unset, mail is written to the log outside production, and mailed flows answer 503 in production'
  }),
  MAIL_FROM: Type.String({
    maxLength: 320,
    pattern: '^([^<>@\\s][^<>@]*<[^<>@\\s]+@[^<>@\\s]+>|[^<>@\\s]+@[^<>@\\s]+)$',
    default: 'authd <no-reply@localhost>',
    description: 'The From of every mail: an address, or "Name <address>"'
  }),
  RESET_TOKEN_TTL: Seconds(1800, 'How long a password-reset link works', 60),
  EMAIL_TOKEN_TTL: Seconds(24 * 3600, 'How long a link to verify or change an address works', 60),
  REQUIRE_EMAIL_VERIFICATION: Type.Boolean({ default: false, description: 'true: a login with an unverified address is refused (email_not_verified), after the password check' }),
  MFA_REQUIRED_SCOPES: Type.String({
    default: 'users:read users:write sessions:revoke clients:read clients:write',
    pattern: '^[a-z:]+( +[a-z:]+)*$',
    description: 'Scopes granted only to sessions opened with a second factor, space-separated; "none" for none'
  }),
  RATE_LIMIT_MAIL: Type.Integer({ minimum: 1, default: 5, description: 'Mails with a link (reset, verification, change) per address per hour' }),
  RATE_LIMIT_MAIL_REQUEST: Type.Integer({ minimum: 1, default: 20, description: 'Requests for such mails per client IP per hour' }),
  RATE_LIMIT_REGISTER: Type.Integer({ minimum: 1, default: 20, description: 'Registrations per client IP per hour' }),
  RATE_LIMIT_NOT_FOUND: Type.Integer({ minimum: 1, default: 60, description: 'Requests to unknown routes per client IP per minute' }),
  METRICS_PORT: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: 65535,
    description: 'The port of a second listener, on HOST, that serves GET /metrics (Prometheus text) and nothing else; unset, no metrics are served'
  })),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.String({
    default: '',
    pattern: '^$|^https?://[^\\s]+$',
    description: 'An OpenTelemetry collector (http://host:4318): traces are sent there by OTLP over HTTP; unset, none are made. The OpenTelemetry SDK reads its other variables (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS, ...) itself'
  }),
  TRUST_PROXY: Type.String({
    default: 'false',
    pattern: '^(true|false|\\d+|[0-9a-fA-F.:/]+(,\\s*[0-9a-fA-F.:/]+)*)$',
    description: 'Whether to believe X-Forwarded-*: false, true, a number of hops, or proxy addresses/CIDRs'
  })
})

export type Config = Static<typeof ConfigSchema> & {
  JWT_SECRET: string
  /** PUBLIC_URL as a normalised origin, or undefined when it is not set. */
  publicOrigin: string | undefined
  /** The origin of the links in mails: PUBLIC_URL's; unset (outside production), http://localhost:PORT. */
  linkOrigin: string
  /** MFA_REQUIRED_SCOPES as a list. */
  mfaRequiredScopes: Scope[]
  /** CORS_ORIGINS as a list of normalised origins. */
  corsOrigins: string[]
  /** TRUST_PROXY in the form Fastify's trustProxy option takes. */
  trustProxy: boolean | string[] | ((address: string, hop: number) => boolean)
  /** The private JWKs of JWT_KEYS_FILE, or undefined when the service generates its keys. */
  keysFile: JsonWebKey[] | undefined
  /** Things worth a warning in the log at start (a generated secret, ...). */
  warnings: string[]
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const MIN_SECRET_BYTES = 32
const MIN_PRODUCTION_ROUNDS = 10

type Env = Record<string, string | undefined>

// TypeBox's Value.Convert would read "1.5" as 1 and "0x10" as 16: only exact forms pass here,
// anything else stays a string and fails validation with its name in the message.
function convert (schema: object, value: string): unknown {
  const { type } = schema as { type?: string }
  if (type === 'integer' && /^-?\d+$/.test(value)) return Number(value)
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true'
  return value
}

// A URL's user:password@ (up to its last "@": a password may hold one) and its password
// parameters are secrets: an error message shows the rest of the value.
const withoutCredentials = (value: string | undefined) =>
  value?.replace(/\/\/[^/\s]*@/, '//***@').replace(/(pass\w*=)[^&\s]*/gi, '$1***')

function originOf (key: string, value: string): string {
  try {
    return new URL(value).origin
  } catch {
    throw new ConfigError(`${key}: ${JSON.stringify(withoutCredentials(value))} is not a URL`)
  }
}

export function loadConfig (env: Env = process.env): Config {
  // Only the variables the schema knows, and an empty value counts as unset.
  const values: Record<string, unknown> = {}
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') values[key] = convert(schema, value)
  }
  Value.Default(ConfigSchema, values)
  const error = Value.Errors(ConfigSchema, values).First()
  if (error !== undefined) {
    const key = error.path.slice(1)
    throw new ConfigError(`${key}: ${error.message} (got ${JSON.stringify(withoutCredentials(env[key]))})`)
  }
  const config = values as Static<typeof ConfigSchema>
  const warnings: string[] = []
  const production = config.NODE_ENV === 'production'

  let secret = config.JWT_SECRET
  if (secret === undefined || Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    const problem = secret === undefined ? 'JWT_SECRET is not set' : `JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes`
    if (production) {
      throw new ConfigError(`${problem}; set it to at least ${MIN_SECRET_BYTES} random bytes, e.g. \`openssl rand -base64 48\``)
    }
    secret = randomBytes(48).toString('base64url')
    warnings.push(`${problem}: using a random secret for this process only; tokens will not survive a restart`)
  }
  if (production && config.BCRYPT_ROUNDS < MIN_PRODUCTION_ROUNDS) {
    throw new ConfigError(`BCRYPT_ROUNDS is ${config.BCRYPT_ROUNDS}; production needs at least ${MIN_PRODUCTION_ROUNDS}`)
  }

  if (!config.COOKIE_SECURE) {
    warnings.push('COOKIE_SECURE=false: cookies lose Secure and their __Host-/__Secure- prefixes; for plain-HTTP development only')
  }
  if (production && config.PUBLIC_URL === '') {
    warnings.push('PUBLIC_URL is not set: the service takes its own origin from the Host header (X-Forwarded-Host with TRUST_PROXY), ' +
      'which a DNS-rebinding page controls; set it to the external origin, e.g. https://auth.example.com')
  }
  if (/^postgres/i.test(config.DATABASE_URL)) {
    try {
      new URL(config.DATABASE_URL) // eslint-disable-line no-new
    } catch {
      throw new ConfigError(`DATABASE_URL: ${JSON.stringify(withoutCredentials(config.DATABASE_URL))} is not a URL`)
    }
  }
  // Browsers send origins lower-cased and without a default port: compare like with like.
  const publicOrigin = config.PUBLIC_URL === '' ? undefined : originOf('PUBLIC_URL', config.PUBLIC_URL)
  const corsOrigins = config.CORS_ORIGINS.split(',').map(origin => origin.trim()).filter(origin => origin !== '')
    .map(origin => originOf('CORS_ORIGINS', origin))
  const proxy = config.TRUST_PROXY
  const hops = Number(proxy)
  const trustProxy = proxy === 'true'
    ? true
    : proxy === 'false'
      ? false
      : Number.isInteger(hops) ? (_address: string, hop: number) => hop < hops : proxy.split(',').map(p => p.trim())

  if (config.JWT_KEY_ROTATION <= config.JWKS_MAX_AGE + 60) {
    throw new ConfigError(`JWT_KEY_ROTATION (${config.JWT_KEY_ROTATION} s) must be longer than JWKS_MAX_AGE (${config.JWKS_MAX_AGE} s) and a minute: a key is published that long before it signs`)
  }
  const keysFile = config.JWT_KEYS_FILE === '' ? undefined : readKeysFile(config.JWT_KEYS_FILE)

  // A link in a mail must never take its host from a request: a forged Host header would send
  // someone's reset link to the forger's server.
  if (production && config.SMTP_URL !== '' && publicOrigin === undefined) {
    throw new ConfigError('SMTP_URL is set but PUBLIC_URL is not: the links in mails need the external origin, e.g. https://auth.example.com')
  }
  if (production && config.SMTP_URL === '') {
    if (config.REQUIRE_EMAIL_VERIFICATION) throw new ConfigError('REQUIRE_EMAIL_VERIFICATION=true needs SMTP_URL: no one could verify an address')
    warnings.push('SMTP_URL is not set: password reset, address verification and change answer 503 mail_not_configured')
  }
  if (config.SMTP_URL !== '') originOf('SMTP_URL', config.SMTP_URL)
  if (config.METRICS_PORT !== undefined && config.METRICS_PORT !== 0 && config.METRICS_PORT === config.PORT) {
    throw new ConfigError(`METRICS_PORT: ${config.METRICS_PORT} is PORT too; the metrics need a port of their own, never the public one`)
  }
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT !== '') originOf('OTEL_EXPORTER_OTLP_ENDPOINT', config.OTEL_EXPORTER_OTLP_ENDPOINT)
  const linkOrigin = publicOrigin ?? `http://localhost:${config.PORT}`
  const mfaRequiredScopes = mfaScopes(config.MFA_REQUIRED_SCOPES)

  return { ...config, JWT_SECRET: secret, publicOrigin, linkOrigin, mfaRequiredScopes, corsOrigins, trustProxy, keysFile, warnings }
}

function mfaScopes (value: string): Scope[] {
  if (value === 'none') return []
  const scopes = [...new Set(value.split(' ').filter(s => s !== ''))]
  for (const scope of scopes) {
    if (!(scope in SCOPE_DESCRIPTIONS)) throw new ConfigError(`MFA_REQUIRED_SCOPES: ${JSON.stringify(scope)} is not a scope (${Object.keys(SCOPE_DESCRIPTIONS).join(', ')}), nor "none"`)
    // Enrolling a second factor needs a session, and that session would have no scope.
    if (scope === 'profile') throw new ConfigError('MFA_REQUIRED_SCOPES: profile cannot need a second factor: a user without one could not sign in to add one')
  }
  return scopes as Scope[]
}

/** Loads `.env` from the working directory into the environment, if there is one. */
export function loadEnvFile (path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path)
}

// JWT_KEYS_FILE: private JWKs of the kinds JWT_ALG names (EC P-256, Ed25519, RSA of 2048 bits
// or more), each with its private member. Anything else stops the start, naming the key.
function readKeysFile (path: string): JsonWebKey[] {
  let keys: unknown
  try {
    keys = (JSON.parse(readFileSync(path, 'utf8')) as { keys?: unknown }).keys
  } catch (err) {
    throw new ConfigError(`JWT_KEYS_FILE: cannot read a JWK set from ${path}: ${(err as Error).message}`)
  }
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError(`JWT_KEYS_FILE: ${path} has no "keys"`)
  return keys.map((key: JsonWebKey & { kid?: unknown }, i) => {
    const name = typeof key?.kid === 'string' ? `key ${JSON.stringify(key.kid)}` : `key ${i}`
    const supported = (key?.kty === 'EC' && key.crv === 'P-256') || (key?.kty === 'OKP' && key.crv === 'Ed25519') ||
      (key?.kty === 'RSA' && typeof key.n === 'string' && Buffer.from(key.n, 'base64url').length >= 256)
    if (!supported) throw new ConfigError(`JWT_KEYS_FILE: ${name} is not an EC P-256, Ed25519 or RSA (2048 bits or more) key`)
    if (typeof key.d !== 'string') throw new ConfigError(`JWT_KEYS_FILE: ${name} has no private part ("d"); the service signs with it`)
    try {
      createPrivateKey({ key, format: 'jwk' })
    } catch (err) {
      throw new ConfigError(`JWT_KEYS_FILE: ${name} is not a valid key: ${(err as Error).message}`)
    }
    return key
  })
}
