// The page at / (src/public, copied next to the compiled code by the build).
import fp from 'fastify-plugin'
import fastifyStatic from '@fastify/static'
import { publicDir } from '../../paths.js'

export default fp(async function staticFiles (app) {
  await app.register(fastifyStatic, {
    root: publicDir,
    // Routes for the files that exist, nothing more: anything else is the API's own 404.
    wildcard: false
  })
}, { name: 'static-files' })
