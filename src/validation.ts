// How requests are validated. JSON bodies are checked as sent: `{"password": 12345678}` is an
// error, not a string, and unknown properties are refused rather than silently dropped. Query
// strings and path parameters are text by nature, so they are converted to the types their
// schemas declare.
import type { FastifyServerOptions } from 'fastify'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'

// The schemas are TypeBox's, fixed at build time: test/validation.test.ts checks every one of
// them against the JSON Schema meta-schema, once, instead of Ajv doing it on every start (a
// tenth of the start time). Strict mode still refuses unknown keywords when they compile.
export function createAjv (coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ coerceTypes, removeAdditional: false, useDefaults: true, allErrors: false, validateSchema: false })
  addFormats.default(ajv)
  return ajv
}

export function validatorCompiler (): FastifyServerOptions['schemaController'] {
  const strict = createAjv(false)
  const converting = createAjv(true)
  return {
    compilersFactory: {
      buildValidator: () => ({ schema, httpPart }) => (httpPart === 'body' ? strict : converting).compile(schema)
    }
  }
}
