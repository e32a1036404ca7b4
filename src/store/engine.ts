// Which engine a DATABASE_URL names, and how a message shows one. Its own small module: the
// server imports it before the app loads, and neither engine's driver should load with it.

/** A `postgres://` or `postgresql://` URL (PostgreSQL); the configuration lets only `file:` (SQLite) through besides. */
export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//i.test(url)

/** The database could not be reached or migrated at start: the message is the one line to print. */
export class DatabaseStartError extends Error {
  override name = 'DatabaseStartError'
}

/**
 * The URL as a message may show it: without the password, whether it sits before the host or in
 * a parameter (password=, sslpassword=).
 */
export function withoutPassword (url: string): string {
  try {
    const parsed = new URL(url)
    parsed.password = ''
    for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, '***')
    return parsed.toString()
  } catch {
    // Greedy: a password may hold an unescaped "@"; everything up to the last one before the path goes.
    return url.replace(/\/\/[^/\s]*@/, '//***@').replace(/(pass\w*=)[^&\s]*/gi, '$1***')
  }
}
