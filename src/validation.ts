// How requests are validated. JSON bodies are checked as sent: `{"password": 12345678}` is an
// error, not a string, and unknown properties are refused rather than silently dropped. Query
// strings and path parameters are text by nature, so they are converted to the types their
// schemas declare.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
// Aliased: the bundle's banner (package.json) declares createRequire too.
import { createRequire as requireFrom } from 'node:module'
import type { FastifyServerOptions } from 'fastify'
import { Ajv, _, type ValidateFunction } from 'ajv'
import standalone from 'ajv/dist/standalone/index.js'
import addFormats from 'ajv-formats'
import { SerializerSelector, type Serializer, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'
import { compiledSchemas } from './paths.js'

// The schemas are TypeBox's, fixed at build time: test/validation.test.ts checks every one of
// them against the JSON Schema meta-schema, once, instead of Ajv doing it on every start (a
// tenth of the start time). Strict mode still refuses unknown keywords when they compile.
const ajvOptions = { removeAdditional: false, useDefaults: true, allErrors: false, validateSchema: false } as const

export function createAjv (coerceTypes: boolean, options: { source?: boolean } = {}): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    ...ajvOptions,
    // For standaloneCode(), which then refers to the formats by this import.
    ...(options.source === true && { code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` } })
  })
  addFormats.default(ajv)
  return ajv
}

// Compiling the routes' validators and serializers is a large part of the start. `npm run build`
// compiles them once (src/cli/compile-schemas.ts), as Fastify's standalone mode does, into
// dist/schemas.cjs, keyed by a hash of each schema and of everything its code depends on: for a
// validator, the part (converted or not), Ajv's options and the versions of Ajv and its formats;
// for a serializer, the shared schemas, the options and the version of fast-json-stringify. Code
// built from anything else is never found, and that schema is compiled at start as before. Tests,
// which run from src/ where there is no such module, compile every schema.
type Compiled = Record<string, () => unknown>
export interface CompiledCode { validators: Compiled, serializers: Compiled }

const load = requireFrom(import.meta.url)
const compiled: CompiledCode = existsSync(compiledSchemas) ? load(compiledSchemas) : { validators: {}, serializers: {} }
const version = (name: string): string => (load(`${name}/package.json`) as { version: string }).version
const validatorVersions = ['ajv', 'ajv-formats'].map(version)
const serializerVersion = version('fast-json-stringify')

type Recorded = Record<keyof CompiledCode, Map<string, string>>
let recording: Recorded | undefined

/** From now on, the code of every validator and serializer compiled is kept, by key, for src/cli/compile-schemas.ts. */
export function recordCompiledCode (): Recorded {
  recording = { validators: new Map(), serializers: new Map() }
  return recording
}

const hash = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('base64url')

/** The key of a request part's validator in dist/schemas.cjs. */
export function validatorKey (httpPart: string | undefined, schema: unknown): string {
  return hash([httpPart !== 'body', ajvOptions, validatorVersions, schema])
}

/** The key of a response serializer in dist/schemas.cjs. */
export function serializerKey (externalSchemas: unknown, options: unknown, schema: unknown): string {
  return hash([externalSchemas, options ?? {}, serializerVersion, schema])
}

// Fastify compiles a serializer for every status of every route: 100 at start, for 18 distinct
// schemas (the error reply alone serves most statuses), and most of the time went to compiling
// the same ones again. A serializer depends only on its schema, the shared schemas and the
// options it was built with; Fastify makes a factory for each plugin's context, but with the
// same shared schemas and options they all build the same serializers, so they share them.
const serializers = new Map<string, WeakMap<object, Serializer>>()

const buildSerializer: SerializerFactory = (externalSchemas, options) => {
  const compile = SerializerSelector()(externalSchemas, options)
  // The same compiler asked for the module's source: the validators of anyOf and oneOf inside it.
  const source = recording === undefined ? undefined : SerializerSelector()(externalSchemas, { ...options, mode: 'standalone', inlineValidators: true } as typeof options)
  const inputs = JSON.stringify([externalSchemas, options])
  let built = serializers.get(inputs)
  if (built === undefined) serializers.set(inputs, built = new WeakMap())
  return (route) => {
    const schema = route.schema as object
    let serialize = built.get(schema)
    if (serialize === undefined) {
      const key = serializerKey(externalSchemas, options, schema)
      const restore = recording === undefined ? compiled.serializers[key] : undefined
      serialize = restore === undefined ? compile(route) : restore() as Serializer
      if (source !== undefined) recording?.serializers.set(key, source(route) as unknown as string)
      built.set(schema, serialize)
    }
    return serialize
  }
}

export function validatorCompiler (): FastifyServerOptions['schemaController'] {
  const source = recording !== undefined
  const strict = createAjv(false, { source })
  const converting = createAjv(true, { source })
  return {
    compilersFactory: {
      buildValidator: () => ({ schema, httpPart }) => {
        const ajv = httpPart === 'body' ? strict : converting
        const key = validatorKey(httpPart, schema)
        const restore = recording === undefined ? compiled.validators[key] : undefined
        if (restore !== undefined) return restore() as ValidateFunction
        const validate = ajv.compile(schema)
        recording?.validators.set(key, standalone.default(ajv, validate))
        return validate
      },
      buildSerializer
    }
  }
}
