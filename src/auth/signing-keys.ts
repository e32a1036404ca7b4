// The signing keys of this service: which one signs, which verify, what the JWKS publishes, and
// their rotation and revocation. Kept in the store (or read from JWT_KEYS_FILE, for operators
// whose keys live in a vault), reloaded by every instance on its own schedule, and by all of them
// at once when a key is revoked (a denylist entry of kind "kid").
import { createHash } from 'node:crypto'
import type { JsonWebKey } from 'node:crypto'
import type { Config } from '../config.js'
import type { SigningKeyRecord, Store } from '../store/index.js'
import { dueKeys, keyStates, signingKey, type KeyAlgorithm, type Schedule } from './key-schedule.js'
import { algorithmOf, generateKey, open, privatePem, publicJwkOf, publicPem, seal, secretKid, type AsymmetricAlgorithm, type PublicJwk } from './key-material.js'
import { CLOCK_MARGIN_MS, type Revocation } from './revocation.js'

/** A key as signing and verifying use it: PEM text, or the secret for HS256. */
export interface KeyInUse { kid: string, alg: KeyAlgorithm, key: string }

export type KeyState = 'waiting' | 'signing' | 'verifying' | 'published' | 'revoked'
export interface KeyView { kid: string, alg: KeyAlgorithm, state: KeyState, createdAt: Date, activatesAt: Date, revokedAt: Date | null }

export interface SigningKeysOptions {
  store: Store
  revocation: Revocation
  config: Pick<Config, 'JWT_ALG' | 'JWT_SECRET' | 'JWT_KEY_ROTATION' | 'JWKS_MAX_AGE' | 'ACCESS_TOKEN_TTL'>
  /** The private JWKs of JWT_KEYS_FILE, when keys come from there: the first signs. */
  keysFile?: JsonWebKey[]
  log: { warn (details: object, message: string): void }
  now?: () => number
}

/** The JWKS document, with the ETag of its text. */
export interface Jwks { body: string, etag: string }

export function createSigningKeys ({ store, revocation, config, keysFile, log, now = () => Date.now() }: SigningKeysOptions) {
  const schedule: Schedule = {
    alg: config.JWT_ALG,
    rotationMs: config.JWT_KEY_ROTATION * 1000,
    // Published a cache lifetime before it signs, plus a margin for the clocks.
    cacheMs: config.JWKS_MAX_AGE * 1000 + CLOCK_MARGIN_MS,
    accessTokenMs: config.ACCESS_TOKEN_TTL * 1000,
    clockMarginMs: CLOCK_MARGIN_MS
  }
  const hs256: KeyInUse = { kid: secretKid(config.JWT_SECRET), alg: 'HS256', key: config.JWT_SECRET }

  let signer: KeyInUse | undefined
  // Since when (ms) the signer has signed, for a key this service generated.
  let signingSince: number | undefined
  let verifiers = new Map<string, KeyInUse>()
  let jwks: Jwks = document([])
  let records: SigningKeyRecord[] = []
  // PEM text per kid: a key is opened and converted once, not at each reload.
  const pems = new Map<string, { private?: string, public: string }>()

  function document (keys: PublicJwk[]): Jwks {
    const body = JSON.stringify({ keys })
    return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
  }

  function inUse (record: SigningKeyRecord, withPrivate: boolean): KeyInUse | undefined {
    if (record.alg === 'HS256') return record.kid === hs256.kid ? hs256 : undefined
    let pem = pems.get(record.kid)
    if (pem === undefined) pems.set(record.kid, pem = { public: publicPem(record.publicJwk as JsonWebKey) })
    if (withPrivate && pem.private === undefined && record.sealed !== null) {
      const opened = open(record.sealed, record.kid, config.JWT_SECRET)
      if (opened === undefined) {
        log.warn({ kid: record.kid }, 'signing key cannot be opened with this JWT_SECRET; a new one will sign')
        return undefined
      }
      pem.private = privatePem(opened)
    }
    return { kid: record.kid, alg: record.alg, key: (withPrivate ? pem.private : pem.public) as string }
  }

  /** Makes the keys of `records` the ones in use. */
  function use (keys: SigningKeyRecord[]) {
    records = keys
    const at = now()
    const scheduled = keys.map(key => ({ ...key, activatesAt: key.activatesAt.getTime(), revokedAt: key.revokedAt?.getTime() ?? null, record: key }))
    const states = keyStates(scheduled, at, schedule)
    const signing = signingKey(scheduled, at)
    signer = signing === undefined ? undefined : inUse(signing.record, true)
    signingSince = signer === undefined || signer.alg === 'HS256' || keysFile !== undefined ? undefined : signing?.activatesAt
    const next = new Map<string, KeyInUse>()
    for (const key of states.verifying) {
      const verifier = inUse(key.record, false)
      if (verifier !== undefined) next.set(key.kid, verifier)
    }
    verifiers = next
    jwks = document(states.published.map(key => key.record.publicJwk as unknown as PublicJwk))
    return states
  }

  async function fromFile (jwks: JsonWebKey[]): Promise<SigningKeyRecord[]> {
    return await Promise.all(jwks.map(async (jwk, i): Promise<SigningKeyRecord> => {
      const alg = algorithmOf(jwk) as AsymmetricAlgorithm
      const publicJwk = await publicJwkOf(jwk, alg, (jwk as { kid?: string }).kid)
      pems.set(publicJwk.kid, { private: privatePem(jwk), public: publicPem(jwk) })
      // The first signs; the others verify, as keys retired a moment ago.
      const activatesAt = new Date(i === 0 ? 0 : -i)
      return { kid: publicJwk.kid, alg, publicJwk: publicJwk as unknown as Record<string, unknown>, sealed: null, createdAt: new Date(0), activatesAt, revokedAt: null }
    }))
  }

  async function created (alg: KeyAlgorithm, activatesAt: number): Promise<Omit<SigningKeyRecord, 'createdAt' | 'revokedAt'>> {
    if (alg === 'HS256') return { kid: hs256.kid, alg, publicJwk: null, sealed: null, activatesAt: new Date(activatesAt) }
    const { privateJwk, publicJwk } = await generateKey(alg)
    return { kid: publicJwk.kid, alg, publicJwk: publicJwk as unknown as Record<string, unknown>, sealed: seal(privateJwk, publicJwk.kid, config.JWT_SECRET), activatesAt: new Date(activatesAt) }
  }

  const scheduledOf = (keys: SigningKeyRecord[]) =>
    keys.map(key => ({ kid: key.kid, alg: key.alg, activatesAt: key.activatesAt.getTime(), revokedAt: key.revokedAt?.getTime() ?? null }))

  /**
   * Brings the key set in line with the schedule (creates the key it asks for, drops what it
   * says can go), then uses it. In one transaction: instances doing it at the same moment create
   * one key. A signing key that this JWT_SECRET cannot open (the secret changed) is replaced now.
   */
  async function maintain (): Promise<void> {
    if (keysFile !== undefined) {
      if (records.length === 0) use(await fromFile(keysFile))
      return
    }
    let keys = await store.signingKeys.all()
    const at = now()
    const plan = dueKeys(scheduledOf(keys), at, schedule)
    if (plan.create !== undefined || plan.drop.length > 0 || keyStates(scheduledOf(keys), at, schedule).gone.length > 0) {
      await apply(keys.length === 0)
      keys = await store.signingKeys.all()
    }
    use(keys)
    if (signer === undefined) {
      await store.transaction(async tx => { await tx.signingKeys.add(await created(config.JWT_ALG, now())) })
      use(await store.signingKeys.all())
    }
  }

  async function apply (firstKeys: boolean) {
    // Generated before the transaction (an RSA key takes a while), and added only if still due.
    const due = dueKeys(scheduledOf(await store.signingKeys.all()), now(), schedule).create
    const fresh = due === undefined ? undefined : await created(due.alg, due.activatesAt)
    await store.transaction(async tx => {
      const keys = await tx.signingKeys.all()
      const at = now()
      const plan = dueKeys(scheduledOf(keys), at, schedule)
      const gone = keyStates(scheduledOf(keys), at, schedule).gone.map(key => key.kid)
      await tx.signingKeys.remove([...new Set([...plan.drop, ...gone])])
      if (plan.create === undefined || fresh === undefined || plan.create.alg !== fresh.alg) return
      // An install from before signing keys: the secret signed its tokens, without a kid; they
      // stay good until they expire (the HS256 key verifies them, then goes).
      if (firstKeys && keys.length === 0 && fresh.alg !== 'HS256' && await tx.sessions.any()) {
        await tx.signingKeys.add({ kid: hs256.kid, alg: 'HS256', publicJwk: null, sealed: null, activatesAt: new Date(0) })
      }
      const activatesAt = new Date(Math.max(plan.create.activatesAt, fresh.activatesAt.getTime()))
      await tx.signingKeys.add({ ...fresh, activatesAt })
      await tx.audit.record({ type: 'signing_key_created', detail: { kid: fresh.kid, alg: fresh.alg, activatesAt: activatesAt.toISOString() } })
    })
  }

  /** Reads the key set again: after another instance created or revoked one. */
  async function reload (): Promise<void> {
    if (keysFile === undefined) use(await store.signingKeys.all())
  }

  /** Every key and its state now. */
  async function list (): Promise<KeyView[]> {
    const keys = keysFile === undefined ? await store.signingKeys.all() : records
    const at = now()
    const scheduled = keys.map(key => ({ ...scheduledOf([key])[0], record: key }))
    const states = keyStates(scheduled, at, schedule)
    const signing = signingKey(scheduled, at)
    return keys.map(key => ({
      kid: key.kid,
      alg: key.alg,
      state: key.revokedAt !== null
        ? 'revoked'
        : key.kid === signing?.kid
          ? 'signing'
          : key.activatesAt.getTime() > at
            ? 'waiting'
            : states.verifying.some(v => v.kid === key.kid) ? 'verifying' : 'published',
      createdAt: key.createdAt,
      activatesAt: key.activatesAt,
      revokedAt: key.revokedAt
    }))
  }

  return {
    /** The key that signs now. Throws before the first maintain(). */
    signer (): KeyInUse {
      if (signer === undefined) throw new Error('No signing key: maintain() has not run, or none can be opened')
      return signer
    },

    /**
     * Seconds the key that signs now has signed; undefined for JWT_SECRET (HS256) and for the
     * keys of JWT_KEYS_FILE, whose age the service does not know.
     */
    signerAge: (): number | undefined => signingSince === undefined ? undefined : (now() - signingSince) / 1000,

    /** The key that verifies tokens of `kid` (a kid-less token is one the secret signed), if any. */
    verifier: (kid: string | undefined): KeyInUse | undefined => verifiers.get(kid ?? hs256.kid),

    /** The JWKS document. */
    jwks: (): Jwks => jwks,

    maintain,

    reload,
    list,

    /**
     * Starts a rotation now: a new key, published at once, that signs a cache lifetime from now.
     * Returns it, or the one already waiting.
     */
    async rotate (): Promise<KeyView> {
      if (keysFile !== undefined) throw new KeysFromFile()
      const at = now()
      const fresh = await created(config.JWT_ALG, at + schedule.cacheMs)
      const kid = await store.transaction(async tx => {
        const waiting = (await tx.signingKeys.all()).find(key => key.revokedAt === null && key.activatesAt.getTime() > at && key.alg === config.JWT_ALG)
        if (waiting !== undefined) return waiting.kid
        await tx.signingKeys.add(fresh)
        await tx.audit.record({ type: 'signing_key_created', detail: { kid: fresh.kid, alg: fresh.alg, activatesAt: fresh.activatesAt.toISOString() } })
        return fresh.kid
      })
      await reload()
      return (await list()).find(key => key.kid === kid) as KeyView
    },

    /**
     * Revokes a key: out of the JWKS, and every token it signed refused, on every instance, at
     * once (a denylist entry). If it was the signing key, a new one signs from now. False if
     * there is no such key, or it was revoked already.
     */
    async revoke (kid: string): Promise<boolean> {
      if (keysFile !== undefined) throw new KeysFromFile()
      const at = now()
      const replacement = await created(config.JWT_ALG, at)
      const revoked = await revocation.change(async tx => {
        const keys = await tx.signingKeys.all()
        const wasSigning = signingKey(scheduledOf(keys), at)?.kid === kid
        if (!await tx.signingKeys.revoke(kid, new Date(at))) return { result: false, denied: [] }
        if (wasSigning) await tx.signingKeys.add(replacement)
        // Refused until any token it signed would have expired anyway.
        const denied = [{ kind: 'kid' as const, value: kid, expiresAt: at + schedule.accessTokenMs + CLOCK_MARGIN_MS }]
        await tx.denylist.add(denied)
        await tx.audit.record({ type: 'signing_key_revoked', detail: { kid, ...(wasSigning && { replacedBy: replacement.kid }) } })
        return { result: true, denied }
      })
      await reload()
      return revoked
    }
  }
}

/** Keys read from JWT_KEYS_FILE are rotated and revoked in that file. */
export class KeysFromFile extends Error {
  constructor () {
    super('The signing keys come from JWT_KEYS_FILE: rotate or revoke them there, then restart')
  }
}

export type SigningKeys = ReturnType<typeof createSigningKeys>
