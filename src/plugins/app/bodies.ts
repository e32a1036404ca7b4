// What a request body may be, checked before any route sees it:
// - JSON, as valid UTF-8: Node would otherwise replace bad bytes with U+FFFD and hand a
//   different password to bcrypt than the one the client meant. Fastify's own parser then
//   refuses __proto__ and constructor.prototype keys (400).
// - no text/plain: it is what a cross-site form can send without a preflight.
// Form bodies are parsed only where a route registers formsOnly() (the OAuth endpoints and the
// browser login), strictly: ASCII as the format requires, percent-encoding that decodes to
// UTF-8, no prototype keys.
import { isUtf8 } from 'node:buffer'
import fp from 'fastify-plugin'
import formbody from '@fastify/formbody'
import type { FastifyPluginAsync } from 'fastify'
import { InvalidRequest } from '../../errors.js'

export default fp(async function bodies (app) {
  app.removeContentTypeParser('text/plain')
  const json = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    if (!isUtf8(body)) return done(new InvalidRequest('The body is not valid UTF-8'), undefined)
    json(request, body.toString('utf8'), done)
  })
}, { name: 'bodies' })

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

function decode (text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    throw new InvalidRequest('The form body is not valid percent-encoded UTF-8')
  }
}

/** application/x-www-form-urlencoded, strictly. A repeated name becomes an array, for the schema to refuse. */
export function parseForm (body: string): Record<string, string | string[]> {
  if (!/^[\x20-\x7e]*$/.test(body)) throw new InvalidRequest('A form body must be ASCII, percent-encoded')
  const fields: Record<string, string | string[]> = Object.create(null)
  for (const pair of body.split('&')) {
    if (pair === '') continue
    const at = pair.indexOf('=')
    const name = decode(at === -1 ? pair : pair.slice(0, at))
    const value = at === -1 ? '' : decode(pair.slice(at + 1))
    if (FORBIDDEN_KEYS.has(name)) throw new InvalidRequest(`A form field may not be called ${name}`)
    const previous = fields[name]
    fields[name] = previous === undefined ? value : [previous, value].flat()
  }
  return fields
}

/** Registered inside a route's own plugin: forms are read there and nowhere else. */
export const formsOnly: FastifyPluginAsync = fp(async (app) => {
  await app.register(formbody, { parser: parseForm })
})
