// Which engine a DATABASE_URL names. Its own small module: the server imports it before the app
// loads, and neither engine's driver should load with it.

/** A `postgres://` or `postgresql://` URL (PostgreSQL); the configuration lets only `file:` (SQLite) through besides. */
export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//i.test(url)

/** The database could not be reached or migrated at start: the message is the one line to print. */
export class DatabaseStartError extends Error {
  override name = 'DatabaseStartError'
}
