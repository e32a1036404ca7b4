// Passkeys (WebAuthn, with @simplewebauthn/server): a signed-in user registers credentials, and
// anyone signs in with one alone (a discoverable credential: no username typed). The relying
// party is the service's own origin (PUBLIC_URL) and its host name. User verification is
// required, so a passkey sign-in is two factors: the device, and the PIN or biometric that
// unlocked it.
//
// Each ceremony's challenge is a challenge handle (./challenges.ts): the browser signs it into
// its clientDataJSON, which is how the answer finds its challenge again, and the challenge is
// used once, in the transaction that stores the passkey or opens the session.
import type {
  AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON
} from '@simplewebauthn/server'
import type { PasskeyRecord, Store } from '../store/index.js'
import { NotFound, PasskeyExists, PasskeyRefused } from '../errors.js'
import type { Challenges } from './challenges.js'
import type { MailTokens } from './mail-tokens.js'
import type { Holder } from './second-factors.js'
import type { PasskeyProof } from './sessions.js'

// Loaded at the first ceremony, not at every start of the service (or of its CLI): it is the
// largest library here, and most processes never need it.
const webauthn = () => import('@simplewebauthn/server')

// How long the browser has to answer, as the options tell it too.
const CEREMONY_TTL = 300

/** Where a ceremony runs: the service's origin, which the browser must report, and its host, the RP id. */
interface RelyingParty { origin: string, id: string }

const relyingParty = (origin: string): RelyingParty => ({ origin, id: new URL(origin).hostname })

/** The challenge a browser's answer carries (base64url, as the options gave it), or undefined. */
function challengeOf (clientDataJSON: string): string | undefined {
  try {
    const { challenge } = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString()) as { challenge?: unknown }
    return typeof challenge === 'string' ? challenge : undefined
  } catch {
    return undefined
  }
}

/** RFC 8176: a hardware-bound key (hwk) or one synced between devices (swk); two factors either way. */
const passkeyAmr = (deviceType: string): string[] => [deviceType === 'multiDevice' ? 'swk' : 'hwk', 'user', 'mfa']

export interface PasskeysOptions {
  store: Store
  challenges: Challenges
  mailTokens: Pick<MailTokens, 'signInChanged' | 'sent'>
  /** The name browsers show for the relying party. */
  rpName: string
  now?: () => number
}

export function createPasskeys ({ store, challenges, mailTokens, rpName, now = () => Date.now() }: PasskeysOptions) {
  return {
    /** The options for navigator.credentials.create(): a resident key, user verification required. */
    async registrationOptions (userId: string, origin: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const rp = relyingParty(origin)
      const user = await store.users.get(userId)
      if (user === null) throw new NotFound('No such user')
      const existing = await store.secondFactors.passkeys.list(userId)
      const handle = await challenges.open(store, 'passkey_register', userId, {}, CEREMONY_TTL)
      return await (await webauthn()).generateRegistrationOptions({
        rpName,
        rpID: rp.id,
        userName: user.username,
        userID: Buffer.from(user.id),
        challenge: Buffer.from(handle, 'base64url'),
        timeout: CEREMONY_TTL * 1000,
        attestationType: 'none',
        // One passkey per authenticator: the browser says so rather than making a second.
        excludeCredentials: existing.map(passkey => ({ id: passkey.id, transports: passkey.transports })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' }
      })
    },

    /**
     * Checks the browser's answer to registrationOptions() and keeps the passkey. Throws
     * passkey_refused (no such ceremony of this user, a wrong origin, a failed check) or
     * passkey_exists.
     */
    async register (holder: Holder, name: string | undefined, response: RegistrationResponseJSON, origin: string): Promise<PasskeyRecord> {
      const rp = relyingParty(origin)
      const handle = challengeOf(response.response.clientDataJSON)
      const pending = handle === undefined ? null : await challenges.find(handle, 'passkey_register')
      if (handle === undefined || pending === null || pending.userId !== holder.id) throw new PasskeyRefused('No registration of yours waits for this answer; start again')
      let verified
      try {
        verified = await (await webauthn()).verifyRegistrationResponse({ response, expectedChallenge: handle, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: true })
      } catch (err) {
        throw new PasskeyRefused(`The passkey could not be verified: ${(err as Error).message}`)
      }
      if (!verified.verified) throw new PasskeyRefused('The passkey could not be verified')
      const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo
      const { id: userId, sessionId, ip, userAgent } = holder
      const added = await store.transaction(async tx => {
        if (!await challenges.use(tx, handle, 'passkey_register')) throw new PasskeyRefused('This registration was already answered')
        if (await tx.secondFactors.passkeys.get(credential.id) !== null) throw new PasskeyExists()
        const count = await tx.secondFactors.passkeys.count(userId)
        const passkey = await tx.secondFactors.passkeys.add({
          id: credential.id,
          userId,
          name: name ?? `Passkey ${count + 1}`,
          publicKey: Buffer.from(credential.publicKey).toString('base64url'),
          counter: credential.counter,
          transports: credential.transports ?? [],
          deviceType: credentialDeviceType,
          backedUp: credentialBackedUp
        })
        await tx.audit.record({ type: 'passkey_added', userId, sessionId, ip, userAgent, detail: { passkey: passkey.id, name: passkey.name } })
        await mailTokens.signInChanged(tx, userId, `A passkey named "${passkey.name}" was added to your account.`)
        return passkey
      })
      mailTokens.sent()
      return added
    },

    list: (userId: string): Promise<PasskeyRecord[]> => store.secondFactors.passkeys.list(userId),

    /** Removes one of the holder's passkeys; throws not_found for anyone else's. */
    async remove (holder: Holder, id: string): Promise<void> {
      const { id: userId, sessionId, ip, userAgent } = holder
      await store.transaction(async tx => {
        const passkey = await tx.secondFactors.passkeys.get(id)
        if (passkey === null || passkey.userId !== userId || !await tx.secondFactors.passkeys.remove(userId, id)) throw new NotFound('No such passkey')
        await tx.audit.record({ type: 'passkey_removed', userId, sessionId, ip, userAgent, detail: { passkey: id, name: passkey.name } })
        await mailTokens.signInChanged(tx, userId, `The passkey named "${passkey.name}" was removed from your account.`)
      })
      mailTokens.sent()
    },

    /** The options for navigator.credentials.get(): any passkey of this relying party (discoverable). */
    async loginOptions (origin: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const rp = relyingParty(origin)
      const handle = await challenges.open(store, 'passkey_login', null, {}, CEREMONY_TTL)
      return await (await webauthn()).generateAuthenticationOptions({
        rpID: rp.id,
        challenge: Buffer.from(handle, 'base64url'),
        timeout: CEREMONY_TTL * 1000,
        userVerification: 'required'
      })
    },

    /**
     * Checks a sign-in answer: its challenge, origin, RP id, signature, user verification and
     * counter. Returns whose passkey it is, its amr, and what to write in the transaction that
     * opens the session (the challenge used, the counter moved on); or throws passkey_refused.
     */
    async verifyLogin (response: AuthenticationResponseJSON, origin: string): Promise<PasskeyProof> {
      const rp = relyingParty(origin)
      const handle = challengeOf(response.response.clientDataJSON)
      const pending = handle === undefined ? null : await challenges.find(handle, 'passkey_login')
      if (handle === undefined || pending === null) throw new PasskeyRefused('No sign-in waits for this answer; start again')
      const passkey = await store.secondFactors.passkeys.get(response.id)
      // The user handle, when the authenticator gives one, must be the passkey's own user.
      const userHandle = response.response.userHandle
      if (passkey === null || (userHandle !== undefined && Buffer.from(userHandle, 'base64url').toString() !== passkey.userId)) {
        throw new PasskeyRefused('This passkey is not known here')
      }
      let verified
      try {
        verified = await (await webauthn()).verifyAuthenticationResponse({
          response,
          expectedChallenge: handle,
          expectedOrigin: rp.origin,
          expectedRPID: rp.id,
          credential: { id: passkey.id, publicKey: Buffer.from(passkey.publicKey, 'base64url'), counter: passkey.counter, transports: passkey.transports as never },
          requireUserVerification: true
        })
      } catch (err) {
        throw new PasskeyRefused(`The passkey could not be verified: ${(err as Error).message}`)
      }
      if (!verified.verified) throw new PasskeyRefused('The passkey could not be verified')
      const { newCounter } = verified.authenticationInfo
      return {
        userId: passkey.userId,
        amr: passkeyAmr(passkey.deviceType),
        claim: async tx => await challenges.use(tx, handle, 'passkey_login') &&
          await tx.secondFactors.passkeys.use(passkey.id, passkey.counter, newCounter, new Date(now()))
      }
    }
  }
}

export type Passkeys = ReturnType<typeof createPasskeys>
