// Machine clients (OAuth 2.0 client credentials, RFC 6749 §4.4): registered by admins, each with
// the scopes it may be granted and one way to authenticate (a secret, by Basic or in the form;
// or private_key_jwt). It authenticates, and gets an access token whose `sub` and `client_id`
// are its id, and no refresh token. Disabling, deleting or narrowing a client refuses the tokens
// it holds at once (client_before); every change is audited in its transaction.
import { randomUUID } from 'node:crypto'
import { InsufficientScope, InvalidClient, InvalidRequest, InvalidScope, NotFound, RateLimited } from '../errors.js'
import { CLIENT_SCOPES } from '../roles.js'
import type { Client, ClientAuthMethod, OAuthClientRecord, Store } from '../store/index.js'
import { hashClientSecret, newClientSecret, secretMatches } from './client-secrets.js'
import { BadAssertion, BadJwks, checkJwks, verifyAssertion, type ClientJwks } from './client-assertion.js'
import { bounded, createSlidingWindow, createTokenBucket } from './limits.js'
import type { Revocation } from './revocation.js'

/** How a machine client may authenticate (RFC 8414 and RFC 7591 names). */
export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt']

/** The claims of a machine client's access token. */
export interface ClientAccessClaims { sub: string, client_id: string, jti: string, scope: string, iat: number }

/** What a request presented to prove it is a client (plugins/app/client-auth.ts reads it). */
export type ClientCredentials =
  | { method: 'client_secret_basic' | 'client_secret_post', clientId: string, secret: string }
  | { method: 'private_key_jwt', clientId: string, assertion: string }

/**
 * Who did it: an admin or a machine client holding clients:write (its token's `scopes`), or the
 * CLI (no scopes: the operator may do anything). For the audit trail, and for what it may grant.
 */
export interface ClientActor extends Client { id: string | null, sessionId: string | null, scopes?: readonly string[] }

export interface Registration {
  name: string
  scopes: string[]
  authMethod?: ClientAuthMethod
  jwks?: ClientJwks
}

export interface ClientsOptions {
  store: Store
  revocation: Revocation
  sign (claims: ClientAccessClaims): string
  /** The claims of an access token this service signed and that has not expired, or throws. */
  verify (token: string): { sub: string, jti: string, exp: number, client_id?: unknown }
  config: { ACCESS_TOKEN_TTL: number, RATE_LIMIT_CLIENT: number, RATE_LIMIT_CLIENT_AUTH: number, CLIENT_SECRET_GRACE: number }
  log: { info (details: object, message: string): void }
  now?: () => number
}

// A client read is kept this long, so that a busy client's requests do not each read its row;
// a cut-off (disable, delete, narrowing) forgets it at once, on every instance.
const CACHE_MS = 10_000
// lastUsedAt is written at most this often per client.
const USED_EVERY_MS = 60_000

export function createClients ({ store, revocation, sign, verify, config, log, now = () => Date.now() }: ClientsOptions) {
  const cache = new Map<string, { client: OAuthClientRecord | null, at: number }>()
  const lastUse = new Map<string, number>()
  const failures = createSlidingWindow({ limit: config.RATE_LIMIT_CLIENT_AUTH, windowMs: 60_000 })
  const requests = createTokenBucket({ limit: config.RATE_LIMIT_CLIENT, windowMs: 60_000 })
  revocation.watchClients(id => { cache.delete(id) })

  // Each client's requests (tokens, introspections), however it authenticates.
  function admit (id: string, at = now()): void {
    const allowed = requests.take(id, at)
    if (!allowed.ok) throw new RateLimited(allowed.retryAfter)
  }

  async function load (id: string, fresh = false): Promise<OAuthClientRecord | null> {
    const at = now()
    const kept = cache.get(id)
    if (!fresh && kept !== undefined && at - kept.at < CACHE_MS) return kept.client
    const client = await store.clients.get(id)
    bounded(cache, id, { client, at })
    return client
  }

  async function proves (client: OAuthClientRecord, credentials: ClientCredentials, audiences: string[], at: number): Promise<boolean> {
    if (credentials.method === 'private_key_jwt') {
      if (client.authMethod !== 'private_key_jwt' || client.jwks === null) return false
      const { jti, expiresAt } = await verifyAssertion(credentials.assertion, client.id, client.jwks, audiences, at)
      if (!await store.clients.useAssertion(client.id, jti, new Date(expiresAt), new Date(at))) throw new BadAssertion('replayed jti')
      return true
    }
    // Basic and the form carry the same secret; either proves a secret-based client.
    if (client.authMethod === 'private_key_jwt') return false
    return secretMatches(credentials.secret, client.secretHash) ||
      (client.previousSecretExpiresAt !== null && client.previousSecretExpiresAt.getTime() > at && secretMatches(credentials.secret, client.previousSecretHash))
  }

  async function check (credentials: ClientCredentials, audiences: string[], at: number, fresh: boolean): Promise<OAuthClientRecord | null> {
    const client = await load(credentials.clientId, fresh)
    if (client === null || client.disabled) return null
    try {
      return await proves(client, credentials, audiences, at) ? client : null
    } catch (err) {
      if (!(err instanceof BadAssertion)) throw err
      log.info({ clientId: client.id, reason: err.message }, 'client assertion refused')
      return null
    }
  }

  function scopesOf (requested: string[]) {
    const unknown = requested.filter(s => !(CLIENT_SCOPES as readonly string[]).includes(s))
    if (requested.length === 0) throw new InvalidRequest('scopes must name at least one scope')
    if (unknown.length > 0) throw new InvalidRequest(`A client cannot hold ${unknown.join(', ')}; it may hold ${CLIENT_SCOPES.join(', ')}`)
    return CLIENT_SCOPES.filter(s => requested.includes(s))
  }

  // What a change committed is read anew here; other instances keep theirs CACHE_MS at most,
  // or forget it at once when it cut the client's tokens off.
  async function afterwards<T> (id: string, change: Promise<T>): Promise<T> {
    try {
      return await change
    } finally {
      cache.delete(id)
    }
  }

  // No one grants what their own token does not carry, nor manages (changes, rotates the secret
  // of, deletes) a client that holds more than that: a client with clients:write alone could
  // otherwise make itself one with users:write. tokens:introspect, which no role grants, is the
  // exception: clients:write may hand it out.
  function mayGrant (actor: ClientActor, scopes: readonly string[]): void {
    const missing = actor.scopes === undefined ? [] : scopes.filter(s => s !== 'tokens:introspect' && !actor.scopes!.includes(s))
    if (missing.length > 0) throw new InsufficientScope(missing.join(' '))
  }

  const audited = (actor: ClientActor) => ({ actorId: actor.id, sessionId: actor.sessionId, ip: actor.ip, userAgent: actor.userAgent })

  return {
    /**
     * The client the credentials prove, or throws invalid_client (wrong secret, unknown or
     * disabled client, a bad or replayed assertion: the client is told only that it failed) or
     * rate_limited. `audiences`: what an assertion's aud may say (the endpoint, the issuer).
     */
    async authenticate (credentials: ClientCredentials, audiences: string[]): Promise<OAuthClientRecord> {
      const at = now()
      // A kept read may predate a secret rotated on another instance: a failure reads again.
      const client = await check(credentials, audiences, at, false) ?? (cache.has(credentials.clientId) ? await check(credentials, audiences, at, true) : null)
      if (client === null) {
        // Only failures count: nobody's wrong secrets lock a client with the right one out.
        const slot = failures.take(credentials.clientId, at)
        throw slot.ok ? new InvalidClient() : new RateLimited(slot.retryAfter)
      }
      admit(client.id, at)
      if ((lastUse.get(client.id) ?? 0) <= at - USED_EVERY_MS) {
        bounded(lastUse, client.id, at)
        await store.clients.used(client.id, new Date(at))
      }
      return client
    },

    /** Counts a request of a client that came with its access token; throws rate_limited past RATE_LIMIT_CLIENT. */
    admit: (clientId: string): void => { admit(clientId) },

    /** An access token for the client: the scopes asked for among its own, or all of them. */
    issue (client: OAuthClientRecord, requested: string[] | undefined): { accessToken: string, expiresIn: number, scope: string } {
      const scopes = requested === undefined ? client.scopes : client.scopes.filter(s => requested.includes(s))
      if (scopes.length === 0 || (requested !== undefined && requested.some(s => !client.scopes.includes(s)))) {
        throw new InvalidScope('The client may not be granted the requested scope')
      }
      const scope = scopes.join(' ')
      // A token issued in the second of a cut-off must not look older than it.
      const iat = Math.max(Math.floor(now() / 1000), revocation.issuableFromClient(client.id))
      return { accessToken: sign({ sub: client.id, client_id: client.id, jti: randomUUID(), scope, iat }), expiresIn: config.ACCESS_TOKEN_TTL, scope }
    },

    /** A live (enabled) client, for introspection's client_id of a token; null otherwise. */
    live: async (id: string): Promise<OAuthClientRecord | null> => {
      const client = await load(id)
      return client === null || client.disabled ? null : client
    },

    /**
     * RFC 7009 for an authenticated client: revokes one of its own access tokens until it
     * expires. 'not_ours' for a live token issued to anyone else; 'none' when it does not verify.
     */
    async revokeToken (client: OAuthClientRecord, token: string, from: Client): Promise<'revoked' | 'not_ours' | 'none'> {
      let claims
      try {
        claims = verify(token)
      } catch {
        return 'none'
      }
      if (claims.client_id !== client.id) return 'not_ours'
      const denied = [revocation.accessToken(claims)]
      await revocation.change(async tx => {
        await tx.denylist.add(denied)
        await tx.audit.record({ type: 'token_revoked', ...from, detail: { via: 'revoke', clientId: client.id } })
        return { result: undefined, denied }
      })
      return 'revoked'
    },

    /** Registers a client; the secret (for a secret-based one) is returned here and never again. */
    async register (actor: ClientActor, { name, scopes, authMethod = 'client_secret_basic', jwks }: Registration): Promise<{ client: OAuthClientRecord, secret: string | null }> {
      const granted = scopesOf(scopes)
      mayGrant(actor, granted)
      const keyBased = authMethod === 'private_key_jwt'
      if (keyBased !== (jwks !== undefined)) throw new InvalidRequest(keyBased ? 'private_key_jwt needs jwks, the public keys of the client' : 'jwks is for private_key_jwt clients only')
      if (jwks !== undefined) {
        try {
          await checkJwks(jwks)
        } catch (err) {
          if (err instanceof BadJwks) throw new InvalidRequest(err.message)
          throw err
        }
      }
      const secret = keyBased ? null : newClientSecret()
      const client = await store.transaction(async tx => {
        const created = await tx.clients.create(randomUUID(), { name, scopes: granted, authMethod, secretHash: secret === null ? null : hashClientSecret(secret), jwks: jwks ?? null })
        await tx.audit.record({ type: 'client_created', ...audited(actor), detail: { clientId: created.id, name, scope: granted.join(' '), authMethod } })
        return created
      })
      return { client, secret }
    },

    list: (): Promise<OAuthClientRecord[]> => store.clients.all(),

    async get (id: string): Promise<OAuthClientRecord> {
      const client = await store.clients.get(id)
      if (client === null) throw new NotFound('No such client')
      return client
    },

    /** Renames, changes scopes, disables or enables; a lost scope or a disable refuses the client's tokens at once. */
    update: (actor: ClientActor, id: string, change: { name?: string, scopes?: string[], disabled?: boolean }): Promise<OAuthClientRecord> => afterwards(id, revocation.change(async tx => {
      const before = await tx.clients.get(id)
      if (before === null) throw new NotFound('No such client')
      mayGrant(actor, before.scopes)
      const scopes = change.scopes === undefined ? undefined : scopesOf(change.scopes)
      if (scopes !== undefined) mayGrant(actor, scopes)
      const client = (await tx.clients.update(id, { name: change.name, scopes, disabled: change.disabled }))!
      const narrowed = before.scopes.some(s => !client.scopes.includes(s))
      const cut = narrowed || (client.disabled && !before.disabled)
      const denied = cut ? await revocation.expireClientTokens(tx, id) : []
      await tx.audit.record({ type: 'client_updated', ...audited(actor), detail: { clientId: id, ...change, ...(scopes !== undefined && { scopes }) } })
      return { result: client, denied }
    })),

    /** A new secret; the current one keeps working for `graceSeconds` (CLIENT_SECRET_GRACE by default). */
    async rotateSecret (actor: ClientActor, id: string, graceSeconds = config.CLIENT_SECRET_GRACE): Promise<{ client: OAuthClientRecord, secret: string }> {
      const secret = newClientSecret()
      const client = await store.transaction(async tx => {
        const before = await tx.clients.get(id)
        if (before === null) throw new NotFound('No such client')
        mayGrant(actor, before.scopes)
        if (before.authMethod === 'private_key_jwt') throw new InvalidRequest('A private_key_jwt client has no secret: register its new key instead')
        const rotated = (await tx.clients.replaceSecret(id, hashClientSecret(secret), new Date(now() + graceSeconds * 1000)))!
        await tx.audit.record({ type: 'client_secret_rotated', ...audited(actor), detail: { clientId: id, graceSeconds } })
        return rotated
      })
      return await afterwards(id, Promise.resolve({ client, secret }))
    },

    /** Deletes the client; its tokens are refused at once. */
    remove: (actor: ClientActor, id: string): Promise<void> => afterwards(id, revocation.change(async tx => {
      const client = await tx.clients.get(id)
      if (client === null) throw new NotFound('No such client')
      mayGrant(actor, client.scopes)
      if (!await tx.clients.remove(id)) throw new NotFound('No such client')
      const denied = await revocation.expireClientTokens(tx, id)
      await tx.audit.record({ type: 'client_deleted', ...audited(actor), detail: { clientId: id, name: client.name } })
      return { result: undefined, denied }
    }))
  }
}

export type Clients = ReturnType<typeof createClients>
