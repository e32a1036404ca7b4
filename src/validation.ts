// How requests are validated. JSON bodies are checked as sent: `{"password": 12345678}` is an
// error, not a string, and unknown properties are refused rather than silently dropped. Query
// strings and path parameters are text by nature, so they are converted to the types their
// schemas declare.
import type { FastifyServerOptions } from 'fastify'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { SerializerSelector, type Serializer, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'

// The schemas are TypeBox's, fixed at build time: test/validation.test.ts checks every one of
// them against the JSON Schema meta-schema, once, instead of Ajv doing it on every start (a
// tenth of the start time). Strict mode still refuses unknown keywords when they compile.
export function createAjv (coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ coerceTypes, removeAdditional: false, useDefaults: true, allErrors: false, validateSchema: false })
  addFormats.default(ajv)
  return ajv
}

// Fastify compiles a serializer for every status of every route: 100 at start, for 18 distinct
// schemas (the error reply alone serves most statuses), and most of the time went to compiling
// the same ones again. A serializer depends only on its schema and the shared schemas it was
// built with, so each factory remembers what it built, by schema object.
const buildSerializer: SerializerFactory = (externalSchemas, options) => {
  const compile = SerializerSelector()(externalSchemas, options)
  const built = new WeakMap<object, Serializer>()
  return (route) => {
    const schema = route.schema as object
    let serialize = built.get(schema)
    if (serialize === undefined) built.set(schema, serialize = compile(route))
    return serialize
  }
}

export function validatorCompiler (): FastifyServerOptions['schemaController'] {
  const strict = createAjv(false)
  const converting = createAjv(true)
  return {
    compilersFactory: {
      buildValidator: () => ({ schema, httpPart }) => (httpPart === 'body' ? strict : converting).compile(schema),
      buildSerializer
    }
  }
}
