// The rotation's decisions, as a pure function: no Fastify, no database, no clock.
import t from 'tap'
import { decideRotation, sessionScopes } from '../../src/auth/rotation.js'
import type { RotationFacts } from '../../src/store/index.js'

const NOW = Date.parse('2026-11-27T12:00:00Z')
const GRACE = 10_000

function facts (overrides: { token?: Partial<RotationFacts['token']>, session?: Partial<RotationFacts['session']>, user?: Partial<RotationFacts['user']> } = {}): RotationFacts {
  const at = new Date(NOW - 60_000)
  return {
    token: { id: 't1', sessionId: 's1', expiresAt: new Date(NOW + 3_600_000), usedAt: null, successor: null, ...overrides.token },
    session: { id: 's1', userId: 'u1', scope: 'profile users:read', userAgent: null, ip: null, createdAt: at, lastUsedAt: at, expiresAt: new Date(NOW + 86_400_000), revokedAt: null, amr: 'pwd', ...overrides.session },
    user: { id: 'u1', username: 'ann', email: 'ann@example.com', passwordHash: 'x', passwordVersion: 0, emailVerified: true, disabled: false, createdAt: at, updatedAt: at, roles: ['admin', 'user'], ...overrides.user }
  }
}

const decide = (found: RotationFacts | undefined, requested?: string[]) => decideRotation(found, { now: NOW, requested, graceMs: GRACE })

t.test('a first use rotates, keeping the scopes of the session', async t => {
  t.same(decide(facts()), { outcome: 'rotate', scopes: ['profile', 'users:read'] })
})

t.test('an unknown token is invalid', async t => {
  t.same(decide(undefined), { outcome: 'invalid' })
})

t.test('a token is invalid once its session is revoked or ending, it expired, or its user is disabled', async t => {
  t.same(decide(facts({ session: { revokedAt: new Date(NOW - 1) } })), { outcome: 'invalid' }, 'revoked session')
  t.same(decide(facts({ session: { expiresAt: new Date(NOW + 1000) } })), { outcome: 'invalid' }, 'a session with a second left')
  t.same(decide(facts({ session: { expiresAt: new Date(NOW + 1001) } })).outcome, 'rotate', 'a little more is enough')
  t.same(decide(facts({ token: { expiresAt: new Date(NOW) } })), { outcome: 'invalid' }, 'expired token')
  t.same(decide(facts({ user: { disabled: true } })), { outcome: 'invalid' }, 'disabled user')
})

t.test('a refresh narrows the scopes, never widens them', async t => {
  t.same(decide(facts(), ['profile']), { outcome: 'rotate', scopes: ['profile'] })
  t.same(decide(facts({ session: { scope: 'profile' } }), ['users:read']), { outcome: 'invalid_scope' }, 'not granted at login')
  t.same(decide(facts(), ['users:write', 'profile']), { outcome: 'rotate', scopes: ['profile'] }, 'asked and not held: dropped')
})

t.test('scopes the roles no longer grant leave the session; with none left it is of no use', async t => {
  t.same(decide(facts({ user: { roles: ['user'] } })), { outcome: 'rotate', scopes: ['profile'] })
  t.same(decide(facts({ user: { roles: [] } })), { outcome: 'invalid_scope' })
  t.same(sessionScopes('profile users:read', ['user'], undefined), ['profile'])
  t.equal(sessionScopes('users:read', ['user'], undefined), undefined)
})

t.test('a used token inside the grace window is a retry: the same successor', async t => {
  const used = { usedAt: new Date(NOW - GRACE), successor: 'sealed' }
  t.same(decide(facts({ token: used })), { outcome: 'retry', scopes: ['profile', 'users:read'], sealedSuccessor: 'sealed' })
  t.same(decide(facts({ token: used }), ['users:write']), { outcome: 'invalid_scope' }, 'a retry asks within the same rules')
})

t.test('a used token past the grace window is a reuse: the session must end', async t => {
  const reuse = { outcome: 'reused', userId: 'u1', sessionId: 's1' }
  t.same(decide(facts({ token: { usedAt: new Date(NOW - GRACE - 1), successor: 'sealed' } })), reuse)
  t.same(decide(facts({ token: { usedAt: new Date(NOW), successor: null } })), reuse, 'without a successor to give, even at once')
})

t.test('a reuse of a dead session is only invalid: nothing is left to end', async t => {
  t.same(decide(facts({ token: { usedAt: new Date(NOW - 60_000), successor: 'sealed' }, session: { revokedAt: new Date(NOW - 1) } })), { outcome: 'invalid' })
})
