// The page at / (src/public, copied next to the compiled code by the build), and the browser
// side of WebAuthn it uses (@simplewebauthn/browser's bundle, served from its package).
import fp from 'fastify-plugin'
import fastifyStatic from '@fastify/static'
import { basename, dirname } from 'node:path'
import { publicDir, webauthnBundle } from '../../paths.js'

export default fp(async function staticFiles (app) {
  await app.register(fastifyStatic, {
    root: publicDir,
    // Routes for the files that exist, nothing more: anything else is the API's own 404.
    wildcard: false
  })
  app.get('/webauthn.js', { schema: { hide: true } }, (_request, reply) => reply.sendFile(basename(webauthnBundle), dirname(webauthnBundle)))
}, { name: 'static-files' })
