// The Node.js line the service runs on. package.json's `engines` says the same to npm, which
// refuses to install on an older Node (engine-strict); this stops a start on one, where
// better-sqlite3 13's addon would otherwise crash the process when the database is first opened.
export const MINIMUM_NODE_MAJOR = 24

/** Why this Node.js cannot run the service, or undefined when it can. */
export function unsupportedNode (version: string = process.version): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1])
  if (major >= MINIMUM_NODE_MAJOR) return undefined
  return `Node.js ${MINIMUM_NODE_MAJOR} or newer is required, and this is ${version} (the README's Two commands section says how to get it)`
}
