import { createRequire } from 'node:module'
import t from 'tap'
import fc from 'fast-check'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifySchema } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import { createAjv, serializerKey, validatorKey, type CompiledCode } from '../src/validation.js'
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

// Values for a schema that sit at and around each of its bounds, valid and not, so that every
// check a validator makes is reached and decided both ways; as text where the part is text.
type Schema = { type?: string, properties?: Record<string, Schema>, required?: string[], anyOf?: Schema[], const?: unknown,
  minLength?: number, maxLength?: number, minimum?: number, maximum?: number, items?: Schema, minItems?: number, maxItems?: number, format?: string }
function near (schema: Schema, text: boolean): fc.Arbitrary<unknown> {
  const other = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}))
  const around = (...bounds: Array<number | undefined>) =>
    fc.oneof(fc.constantFrom(0, ...bounds.filter(b => b !== undefined).flatMap(b => [b - 1, b, b + 1])), fc.integer({ min: -5, max: 300 }))
  if (schema.anyOf !== undefined) return fc.oneof(...schema.anyOf.map(s => near(s, text)), other)
  if (schema.const !== undefined) return fc.oneof(fc.constant(schema.const), other)
  switch (schema.type) {
    case 'object': {
      const properties = Object.entries(schema.properties ?? {}).map(([key, s]) => [key, near(s, text)] as const)
      return fc.oneof({ weight: 4, arbitrary: fc.record(Object.fromEntries(properties), { requiredKeys: schema.required ?? [] }) },
        fc.record(Object.fromEntries(properties), { requiredKeys: [] }).map(o => ({ ...o, unknown: 1 })), other)
    }
    case 'string': {
      const length = around(schema.minLength, schema.maxLength).filter(n => n >= 0)
      const lengths = fc.tuple(length, fc.constantFrom('x', 'é', '€', 'a-b', 'x y', '9')).map(([n, unit]) => unit.repeat(n).slice(0, Math.max(n, 0)))
      const strings = schema.format === 'email'
        ? fc.tuple(length, fc.constantFrom('@x.io', 'x.io', '@', '@x')).map(([n, end]) => 'x'.repeat(Math.max(0, n - end.length)) + end)
        : schema.format === 'uuid'
          ? fc.oneof(fc.uuid(), lengths)
          : schema.format === 'date-time'
            ? fc.oneof(fc.date({ noInvalidDate: true }).map(d => d.toISOString()), lengths)
            : lengths
      return fc.oneof({ weight: 4, arbitrary: strings }, other)
    }
    case 'integer':
    case 'number': {
      const numbers = fc.oneof(around(schema.minimum, schema.maximum), fc.double({ min: -5, max: 300, noNaN: true }))
      return fc.oneof({ weight: 4, arbitrary: text ? numbers.map(String) : numbers }, other)
    }
    case 'boolean':
      return fc.oneof({ weight: 4, arbitrary: text ? fc.constantFrom('true', 'false', '1', '0') : fc.boolean() }, other)
    case 'array':
      return fc.oneof({ weight: 4, arbitrary: fc.array(near(schema.items ?? {}, text), { maxLength: (schema.maxItems ?? 3) + 1 }) }, other)
    default:
      return other
  }
}

// `npm run build` (which `npm test` runs first) compiles the validators into dist/schemas.cjs;
// the built service uses that code instead of compiling at start (src/validation.ts). Every
// schema a route validates with must be found there, and its code must judge, and convert,
// every input exactly as Ajv compiling the schema at start would.
t.test('the validators compiled at build time are those of every route, and agree with Ajv', async t => {
  const compiled = (createRequire(import.meta.url)('../dist/schemas.cjs') as CompiledCode).validators
  const app = buildApp(loadConfig(testEnv(tempDir(t))))
  t.teardown(() => app.close())
  const validated: Array<{ where: string, part: string, schema: object }> = []
  app.addHook('onRoute', ({ method, url, schema }: { method: unknown, url: string, schema?: FastifySchema }) => {
    for (const part of ['body', 'querystring', 'params', 'headers'] as const) {
      if (schema?.[part] !== undefined) validated.push({ where: `${String(method)} ${url} ${part}`, part, schema: schema[part] as object })
    }
  })
  await app.ready()
  t.ok(validated.length >= 15, `found the routes' validated parts (${validated.length})`)

  for (const { where, part, schema } of validated) {
    const coerce = part !== 'body'
    const restore = compiled[validatorKey(part, schema)]
    t.type(restore, 'function', `${where} is in dist/schemas.cjs`)
    if (restore === undefined) continue
    const built = restore() as (data: unknown) => boolean
    const atStart = createAjv(coerce).compile(schema)
    fc.assert(fc.property(near(schema, coerce), input => {
      // Both may convert or fill in defaults in place: each judges a copy of its own.
      const a = structuredClone(input)
      const b = structuredClone(input)
      const same = built(a) === atStart(b)
      if (!same || JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${where}: ${JSON.stringify(input)}`)
    }), { numRuns: 2000 })
  }
})

// The response serializers are compiled at build time too, by fast-json-stringify's standalone
// mode. Every route's must be found in dist/schemas.cjs, and must write every value, valid or
// not, as fast-json-stringify compiling the schema at start would, or refuse it alike.
t.test('the serializers compiled at build time are those of every route, and agree with fast-json-stringify', async t => {
  const compiled = (createRequire(import.meta.url)('../dist/schemas.cjs') as CompiledCode).serializers
  const app = buildApp(loadConfig(testEnv(tempDir(t))))
  t.teardown(() => app.close())
  const serialized: Array<{ where: string, schema: object }> = []
  app.addHook('onRoute', ({ method, url, schema }: { method: unknown, url: string, schema?: FastifySchema }) => {
    for (const [status, response] of Object.entries(schema?.response ?? {})) {
      serialized.push({ where: `${String(method)} ${url} response ${status}`, schema: response as object })
    }
  })
  await app.ready()
  t.ok(serialized.length > 40, `found the routes' responses (${serialized.length})`)

  const atStart = SerializerSelector()(app.getSchemas(), undefined)
  for (const { where, schema } of serialized) {
    const restore = compiled[serializerKey(app.getSchemas(), undefined, schema)]
    t.type(restore, 'function', `${where} is in dist/schemas.cjs`)
    if (restore === undefined) continue
    const built = restore() as (data: unknown) => string
    const expected = atStart({ schema, method: '', url: '', httpStatus: '' })
    const write = (serialize: (data: unknown) => string, data: unknown) => {
      try { return serialize(data) } catch (err) { return `refused: ${(err as Error).message}` }
    }
    fc.assert(fc.property(near(schema, false), input => {
      const [a, b] = [write(built, input), write(expected, input)]
      if (a !== b) throw new Error(`${where}: ${JSON.stringify(input)}: ${a} against ${b}`)
    }), { numRuns: 500 })
  }
})
