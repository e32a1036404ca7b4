// Process entry: refuses a Node.js the service does not support, turns on V8's compile cache,
// then loads the service (./service.ts, which the build bundles into dist/service.js).
//
// Compiling the bundle is a large part of every start. With the cache, V8 takes the code it
// compiled at an earlier start instead (`npm run build` ends with one:
// src/cli/warm-compile-cache.ts). It lives beside the bundle, in dist/, written only by whoever
// may write the code itself: a cache that another user could write would be code they could
// run. Node checks each entry against the source and its own version, so a stale one is
// ignored; it keeps a folder per user, and one it may not write (the image's, which root owns,
// made for the service's user: Dockerfile) is only read.

// node:module imported whole, not by name: on an older Node, a missing named export would fail
// the import before the check below could say why.
import module from 'node:module'
import { fileURLToPath } from 'node:url'
import { unsupportedNode } from './runtime.js'

const unsupported = unsupportedNode()
if (unsupported !== undefined) {
  console.error(`authd: ${unsupported}`)
  process.exit(1)
}

// NODE_COMPILE_CACHE, when set, is the operator's choice, and Node has enabled it already.
if (process.env.NODE_COMPILE_CACHE === undefined) module.enableCompileCache(fileURLToPath(new URL('./.compile-cache/', import.meta.url)))
await import('./service.js')
