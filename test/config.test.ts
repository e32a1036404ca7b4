import { readFileSync } from 'node:fs'
import t from 'tap'
import { ConfigError, ConfigSchema, loadConfig } from '../src/config.js'

const SECRET = 'x'.repeat(32)

t.test('defaults outside production, with a generated secret and a warning', async t => {
  const config = loadConfig({})
  t.match(config, {
    NODE_ENV: 'development',
    HOST: 'localhost',
    PORT: 3000,
    DATABASE_URL: 'file:./data/auth.db',
    JWT_ISSUER: 'authd',
    JWT_AUDIENCE: 'authd',
    ACCESS_TOKEN_TTL: 900,
    BCRYPT_ROUNDS: 12,
    LOG_LEVEL: 'info'
  })
  t.ok(Buffer.byteLength(config.JWT_SECRET) >= 32)
  t.not(loadConfig({}).JWT_SECRET, config.JWT_SECRET, 'a fresh secret for each process')
  t.match(config.warnings, [/JWT_SECRET is not set/])
})

t.test('values are converted and validated, an empty one counts as unset', async t => {
  const config = loadConfig({ PORT: '8080', ACCESS_TOKEN_TTL: '60', BCRYPT_ROUNDS: '', JWT_SECRET: SECRET })
  t.equal(config.PORT, 8080)
  t.equal(config.ACCESS_TOKEN_TTL, 60)
  t.equal(config.BCRYPT_ROUNDS, 12)
  t.same(config.warnings, [])

  for (const [name, value] of [['PORT', 'http'], ['PORT', '70000'], ['ACCESS_TOKEN_TTL', '0'], ['ACCESS_TOKEN_TTL', '1.5'], ['PORT', '0x10'], ['PORT', ' 80'], ['PORT', '1e3'],
    ['BCRYPT_ROUNDS', '3'], ['BCRYPT_ROUNDS', '32'], ['LOG_LEVEL', 'loud'], ['NODE_ENV', 'staging'], ['DATABASE_URL', 'mysql://x'], ['DATABASE_URL', 'postgres://'], ['DATABASE_POOL_MAX', '0']]) {
    t.throws(() => loadConfig({ [name]: value }), { name: 'ConfigError', message: new RegExp(`^${name}: .*got "${value.replace('.', '\\.')}"`) }, `${name}=${value}`)
  }
})

t.test('DATABASE_URL: file: for SQLite, postgres:// or postgresql:// for PostgreSQL; a refused one never shows its password', async t => {
  t.equal(loadConfig({}).DATABASE_URL, 'file:./data/auth.db')
  const url = 'postgresql://authd:s3cret-pw@db.internal:5432/authd?sslmode=verify-full&sslrootcert=/etc/ca.pem'
  const config = loadConfig({ DATABASE_URL: url, DATABASE_POOL_MAX: '20', DATABASE_STATEMENT_TIMEOUT_MS: '2000' })
  t.equal(config.DATABASE_URL, url)
  t.equal(config.DATABASE_POOL_MAX, 20)
  t.equal(config.DATABASE_STATEMENT_TIMEOUT_MS, 2000)
  t.equal(config.DATABASE_CONNECT_TIMEOUT_MS, 5000)
  for (const value of ['mysql://authd:s3cret-pw@db/authd', 'postgres://authd:s3cret-pw@db.internal:99999/authd', 'postgres://authd:s3cret-pw@[db/authd',
    'mysql://authd:s3cret@pw@db/authd', 'postgres://authd@[db/authd?password=s3cret-pw&sslpassword=s3cret-key']) {
    try {
      loadConfig({ DATABASE_URL: value })
      t.fail(`${value} was accepted`)
    } catch (err) {
      t.match((err as Error).message, /^DATABASE_URL: /, value)
      t.notMatch((err as Error).message, /s3cret/, 'the password is not shown')
      t.match((err as Error).message, /authd@|\*\*\*@/, 'the rest is')
    }
  }
})

t.test('production refuses a missing or short secret and weak hashing, in one line', async t => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /^JWT_SECRET is not set; set it to at least 32 random bytes/],
    [{ JWT_SECRET: 'x'.repeat(31) }, /^JWT_SECRET is shorter than 32 bytes/],
    [{ JWT_SECRET: SECRET, BCRYPT_ROUNDS: '9' }, /^BCRYPT_ROUNDS is 9; production needs at least 10$/]
  ]
  for (const [env, message] of cases) {
    try {
      loadConfig({ NODE_ENV: 'production', ...env })
      t.fail('should have thrown')
    } catch (err) {
      t.ok(err instanceof ConfigError)
      t.match((err as Error).message, message)
      t.notMatch((err as Error).message, /\n/, 'one line')
    }
  }
  t.equal(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET }).JWT_SECRET, SECRET, '32 bytes are enough')
  t.equal(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'é'.repeat(16) }).JWT_SECRET.length, 16, 'bytes, not characters')
})

t.test('.env.example lists every variable with its default', async t => {
  const example = new Map(readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
    .split('\n').filter(line => /^[A-Z_]+=/.test(line)).map(line => line.split('=', 2) as [string, string]))
  t.same([...example.keys()].sort(), Object.keys(ConfigSchema.properties).sort())
  for (const [name, schema] of Object.entries<{ default?: unknown }>(ConfigSchema.properties)) {
    t.equal(example.get(name), schema.default === undefined ? '' : String(schema.default), name)
  }
})

t.test('CORS_ORIGINS is normalised as browsers send origins; TRUST_PROXY is read in each of its forms', async t => {
  const config = loadConfig({ CORS_ORIGINS: 'https://App.Example.com:443, http://localhost:5173' })
  t.same(config.corsOrigins, ['https://app.example.com', 'http://localhost:5173'])
  for (const value of ['https://app.example.com/', 'ftp://files.example.com', 'app.example.com', 'https://a.example, ']) {
    t.throws(() => loadConfig({ CORS_ORIGINS: value }), { name: 'ConfigError', message: /^CORS_ORIGINS: / }, value)
  }
  t.equal(loadConfig({}).trustProxy, false)
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true)
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy, ['10.0.0.0/8', '127.0.0.1'])
  const hops = loadConfig({ TRUST_PROXY: '2' }).trustProxy as (address: string, hop: number) => boolean
  t.same([0, 1, 2].map(hop => hops('10.0.0.1', hop)), [true, true, false])
  t.throws(() => loadConfig({ TRUST_PROXY: 'yes please' }), { message: /^TRUST_PROXY: / })
})

t.test('PUBLIC_URL is an origin: normalised, refused with its credentials hidden, missed in production', async t => {
  t.equal(loadConfig({}).publicOrigin, undefined)
  t.equal(loadConfig({ PUBLIC_URL: 'https://Auth.Example.com:443/' }).publicOrigin, 'https://auth.example.com')
  t.equal(loadConfig({ PUBLIC_URL: 'http://localhost:3000' }).publicOrigin, 'http://localhost:3000')
  for (const value of ['https://auth.example.com/login', 'ftp://auth.example.com', 'auth.example.com', 'https://auth.example.com?x', 'https://[::1']) {
    t.throws(() => loadConfig({ PUBLIC_URL: value }), { name: 'ConfigError', message: /^PUBLIC_URL: / }, value)
  }
  try {
    loadConfig({ PUBLIC_URL: 'https://admin:hunter2-secret@auth.example.com' })
    t.fail('should have thrown')
  } catch (err) {
    t.match((err as Error).message, /^PUBLIC_URL: .*"https:\/\/\*\*\*@auth\.example\.com"/)
    t.notMatch((err as Error).message, 'hunter2', 'the password in the URL is not shown')
  }
  const unset = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET }).warnings
  t.match(unset.join('\n'), /^PUBLIC_URL is not set: the service takes its own origin from the Host header/m, 'production warns')
  t.notMatch(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, PUBLIC_URL: 'https://auth.example.com' }).warnings.join('\n'), /PUBLIC_URL/)
  t.notMatch(loadConfig({}).warnings.join('\n'), /PUBLIC_URL/, 'development does not')
})

t.test('mail: SMTP_URL is refused with its password hidden; production needs PUBLIC_URL for links, and warns without SMTP', async t => {
  const production = { NODE_ENV: 'production', JWT_SECRET: SECRET }
  for (const value of ['http://mail.example.com', 'smtp://mail example.com', 'smtp://user:hunter2-secret@[mail']) {
    try {
      loadConfig({ SMTP_URL: value })
      t.fail(`${value} should have been refused`)
    } catch (err) {
      t.match((err as Error).message, /^SMTP_URL: /, value)
      t.notMatch((err as Error).message, 'hunter2', 'the password in the URL is not shown')
    }
  }
  t.equal(loadConfig({ SMTP_URL: 'smtps://user:pass@mail.example.com:465' }).SMTP_URL, 'smtps://user:pass@mail.example.com:465')
  t.equal(loadConfig({ PORT: '4000' }).linkOrigin, 'http://localhost:4000', 'links outside production without PUBLIC_URL')
  t.equal(loadConfig({ PUBLIC_URL: 'https://Auth.Example.com' }).linkOrigin, 'https://auth.example.com')

  t.throws(() => loadConfig({ ...production, SMTP_URL: 'smtp://mail.example.com' }),
    { name: 'ConfigError', message: /^SMTP_URL is set but PUBLIC_URL is not/ }, 'a link must never take its host from a request')
  t.throws(() => loadConfig({ ...production, REQUIRE_EMAIL_VERIFICATION: 'true' }),
    { name: 'ConfigError', message: /^REQUIRE_EMAIL_VERIFICATION=true needs SMTP_URL/ })
  t.match(loadConfig(production).warnings.join('\n'), /^SMTP_URL is not set: password reset, address verification and change answer 503/m)
  t.notMatch(loadConfig({ ...production, SMTP_URL: 'smtp://mail.example.com', PUBLIC_URL: 'https://auth.example.com' }).warnings.join('\n'), /SMTP_URL/)
})

t.test('MAIL_FROM is an address, or a name and an address', async t => {
  for (const value of ['accounts@example.com', 'Example accounts <accounts@example.com>']) t.equal(loadConfig({ MAIL_FROM: value }).MAIL_FROM, value)
  for (const value of ['accounts', 'Example <accounts>', '<a@b> trailing', 'two@at@example.com']) {
    t.throws(() => loadConfig({ MAIL_FROM: value }), { name: 'ConfigError', message: /^MAIL_FROM: / }, value)
  }
})
