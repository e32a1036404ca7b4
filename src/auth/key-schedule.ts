// The life of signing keys, as pure functions of the key set and the time. Keys take turns: each
// signs from its activation until the next key's, so that exactly one signs at any moment, on
// every instance that reads the same set. A key is published before it signs, long enough for a
// resource server that fetched the JWKS just before to know it when it sees its first token; it
// stays published, and verifying, until the last token it signed has expired, plus that cache
// lifetime. A revoked key does neither, at once.

export type KeyAlgorithm = 'ES256' | 'EdDSA' | 'RS256' | 'HS256'

/** What the schedule needs of a key. Times in milliseconds since the epoch. */
export interface ScheduledKey {
  kid: string
  alg: KeyAlgorithm
  activatesAt: number
  revokedAt: number | null
}

export interface Schedule {
  /** The algorithm new keys use (JWT_ALG). */
  alg: KeyAlgorithm
  /** How long a key signs before the next one takes over (JWT_KEY_ROTATION). */
  rotationMs: number
  /** How long resource servers may cache the JWKS: a key is published this long before it signs. */
  cacheMs: number
  /** How long an access token lives. */
  accessTokenMs: number
  /** Leeway for clocks that disagree a little. */
  clockMarginMs: number
}

/** The keys that have not been revoked, in the order they sign (then by kid, for ties). */
function inTurn<K extends ScheduledKey> (keys: readonly K[]): K[] {
  return keys.filter(key => key.revokedAt === null)
    .sort((a, b) => a.activatesAt - b.activatesAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0))
}

/** The key that signs at `now`: the last one activated. Undefined when none has. */
export function signingKey<K extends ScheduledKey> (keys: readonly K[], now: number): K | undefined {
  let signing: K | undefined
  for (const key of inTurn(keys)) if (key.activatesAt <= now) signing = key
  return signing
}

/** Until when a key's tokens may still be presented: its successor's activation plus a token's life; Infinity while it has none. */
function tokensEndAt (successor: ScheduledKey | undefined, schedule: Schedule): number {
  return successor === undefined ? Infinity : successor.activatesAt + schedule.accessTokenMs + schedule.clockMarginMs
}

/**
 * The keys that verify tokens at `now` (those that signed tokens still alive, and the signing
 * one), and those published in the JWKS (these, the keys about to sign, and the retired ones
 * until the caches that hold them have expired; never an HS256 key, a secret). Also the keys
 * past both, which can go.
 */
export function keyStates<K extends ScheduledKey> (keys: readonly K[], now: number, schedule: Schedule) {
  const ordered = inTurn(keys)
  const verifying: K[] = []
  const published: K[] = []
  const gone: K[] = keys.filter(key => key.revokedAt !== null && key.revokedAt + schedule.accessTokenMs + schedule.clockMarginMs <= now)
  ordered.forEach((key, i) => {
    const endsAt = tokensEndAt(ordered[i + 1], schedule)
    if (key.activatesAt <= now && now < endsAt) verifying.push(key)
    const shown = now < endsAt + schedule.cacheMs
    if (shown && key.alg !== 'HS256') published.push(key)
    if (!shown) gone.push(key)
  })
  return { verifying, published, gone }
}

/** A key to create: its algorithm, and when it starts signing. */
export interface DueKey { alg: KeyAlgorithm, activatesAt: number }

/**
 * What the schedule asks for at `now`:
 * - none signs, or the one that signs is of another algorithm than JWT_ALG, and none of JWT_ALG
 *   waits to: a key now (a resource server cannot have cached one that never existed), and the
 *   keys of another algorithm that wait to sign dropped (they never signed anything);
 * - the signing key is due for rotation within a cache lifetime, and no successor waits: a key
 *   that signs a cache lifetime from now.
 */
export function dueKeys (keys: readonly ScheduledKey[], now: number, schedule: Schedule): { create?: DueKey, drop: string[] } {
  const ordered = inTurn(keys)
  const signing = signingKey(ordered, now)
  const waiting = ordered.filter(key => key.activatesAt > now)
  const drop = waiting.filter(key => key.alg !== schedule.alg).map(key => key.kid)
  if (signing === undefined || signing.alg !== schedule.alg) {
    return waiting.some(key => key.alg === schedule.alg) ? { drop } : { create: { alg: schedule.alg, activatesAt: now }, drop }
  }
  // An HS256 key is the secret itself: nothing to rotate.
  if (signing.alg === 'HS256' || waiting.length > drop.length || now < signing.activatesAt + schedule.rotationMs - schedule.cacheMs) return { drop }
  return { create: { alg: schedule.alg, activatesAt: now + schedule.cacheMs }, drop }
}
