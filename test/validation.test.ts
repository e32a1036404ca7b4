import t from 'tap'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifySchema } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { tempDir, testEnv } from './helper.js'

// src/validation.ts skips Ajv's check of each schema against the meta-schema on start; this
// is where that check runs, for every schema of every route, requests and responses.
const checker = new Ajv({ strict: true, allErrors: true })
addFormats.default(checker)

t.test('every route schema is valid JSON Schema', async t => {
  const app = buildApp(loadConfig(testEnv(tempDir(t))))
  t.teardown(() => app.close())
  const schemas: Array<{ where: string, schema: unknown }> = []
  app.addHook('onRoute', ({ method, url, schema }: { method: unknown, url: string, schema?: FastifySchema }) => {
    for (const part of ['body', 'querystring', 'params', 'headers'] as const) {
      if (schema?.[part] !== undefined) schemas.push({ where: `${String(method)} ${url} ${part}`, schema: schema[part] })
    }
    for (const [status, response] of Object.entries(schema?.response ?? {})) {
      schemas.push({ where: `${String(method)} ${url} response ${status}`, schema: response })
    }
  })
  await app.ready()
  t.ok(schemas.length > 40, `found the routes' schemas (${schemas.length})`)
  for (const { where, schema } of schemas) {
    t.ok(checker.validateSchema(schema as object), `${where}: ${checker.errorsText(checker.errors)}`)
  }
})

t.test('the check refuses a malformed schema', async t => {
  t.notOk(checker.validateSchema({ type: 'object', properties: { name: { type: 'strin' } } }), 'an unknown type')
  t.notOk(checker.validateSchema({ type: 'string', minLength: -1 }), 'a negative length')
})
