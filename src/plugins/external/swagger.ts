// The OpenAPI 3 document at /docs/json and Swagger UI at /docs. The OAuth2 password flow points
// at the token endpoint, so the UI's Authorize button logs in like any API client.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { SCOPE_DESCRIPTIONS } from '../../roles.js'

// Swagger UI's files, from its package: the plugin looks for them beside its own code, which is
// bundled into dist/server.js (package.json's bundle script; loading it from node_modules instead
// cost a tenth of the start, for its own copies of yaml and @fastify/static). Given the folder,
// it also answers GET /docs/* from it: a second address for the files /docs/static/* serves.
const uiFiles = fileURLToPath(new URL('./', import.meta.resolve('@fastify/swagger-ui/static/index.html')))

type Hook = ((...args: never[]) => unknown) & { requiredScopes?: string[] }

export default fp(async function swagger (app) {
  await app.register(fastifySwagger, {
    // A route that runs app.authenticate needs a token; the scopes its app.requireScopes hook
    // asks for are the OAuth2 scheme's. Derived from the hooks, so the document cannot drift.
    transform: ({ schema, url, route }) => {
      const hooks = [route.onRequest, route.preHandler].flat().filter(h => h !== undefined) as Hook[]
      if (!hooks.includes(app.authenticate as unknown as Hook)) return { schema, url }
      const scopes = hooks.flatMap(hook => hook.requiredScopes ?? [])
      const needs = scopes.length > 0 ? `Requires the scope ${scopes.join(' ')}.` : 'Requires any valid access token.'
      return {
        url,
        schema: {
          ...schema,
          description: [schema.description, needs].filter(Boolean).join('\n\n'),
          security: [{ bearerAuth: [] }, { oauth2: scopes }]
        }
      }
    },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'authd',
        description: 'Registers users, checks passwords, issues JWT access tokens.',
        version: '0.1.0'
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          oauth2: {
            type: 'oauth2',
            flows: { password: { tokenUrl: '/auth/token', scopes: SCOPE_DESCRIPTIONS } }
          }
        }
      }
    }
  })
  // No call to the public validator.swagger.io from the page.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { validatorUrl: null },
    baseDir: uiFiles,
    logo: { type: 'image/svg+xml', content: await readFile(join(uiFiles, 'logo.svg')) }
  })
}, { name: 'swagger' })
