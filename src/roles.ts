// Who may do what: each role grants scopes, and this is the only place that says which.
export const SCOPE_DESCRIPTIONS = {
  profile: 'Read and manage your own account and sessions',
  'users:read': 'Read any user and the audit trail',
  'users:write': 'Change, disable and delete users',
  'sessions:revoke': "End other users' sessions",
  'clients:read': 'Read the machine clients',
  'clients:write': 'Register, change, disable and delete machine clients',
  'tokens:introspect': 'Ask whether a token is live (RFC 7662); machine clients only'
} as const

export type Scope = keyof typeof SCOPE_DESCRIPTIONS

export const ROLE_SCOPES: Record<string, readonly Scope[]> = {
  user: ['profile'],
  admin: ['profile', 'users:read', 'users:write', 'sessions:revoke', 'clients:read', 'clients:write']
}

/** What a machine client may be registered with: every scope but a user's own (profile). */
export const CLIENT_SCOPES = (Object.keys(SCOPE_DESCRIPTIONS) as Scope[]).filter(s => s !== 'profile')

export const DEFAULT_ROLES = ['user']

/** Every scope the roles grant, in a stable order. */
export function grantedScopes (roles: readonly string[]): Scope[] {
  const granted = new Set(roles.flatMap(role => ROLE_SCOPES[role] ?? []))
  return (Object.keys(SCOPE_DESCRIPTIONS) as Scope[]).filter(s => granted.has(s))
}

/** The scopes a space-separated `scope` parameter asks for; undefined when it asks for none. */
export function parseScope (scope: string | undefined): string[] | undefined {
  const scopes = scope?.split(' ').filter(s => s !== '')
  return scopes === undefined || scopes.length === 0 ? undefined : scopes
}

/**
 * The scopes a token gets: those asked for among the granted ones, or all granted ones when
 * nothing was asked. Undefined when something was asked and none of it can be granted.
 */
export function narrowScopes (granted: readonly Scope[], requested: readonly string[] | undefined): Scope[] | undefined {
  if (requested === undefined) return [...granted]
  const wanted = new Set(requested)
  const scopes = granted.filter(s => wanted.has(s))
  return scopes.length > 0 ? scopes : undefined
}
