// The OpenAPI 3 document at /docs/json and Swagger UI at /docs. The OAuth2 password and client
// credentials flows point at the token endpoint, so the UI's Authorize button logs in like any
// API client, or gets a token as a machine client.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { SCOPE_DESCRIPTIONS } from '../../roles.js'

// Swagger UI's files, from its package: the plugin looks for them beside its own code, which is
// bundled into dist/service.js (package.json's bundle script; loading it from node_modules instead
// cost a tenth of the start, for its own copies of yaml and @fastify/static). Given the folder,
// it also answers GET /docs/* from it: a second address for the files /docs/static/* serves.
const uiFiles = fileURLToPath(new URL('./', import.meta.resolve('@fastify/swagger-ui/static/index.html')))

type Hook = ((...args: never[]) => unknown) & { requiredScopes?: string[] }

export default fp(async function swagger (app) {
  await app.register(fastifySwagger, {
    // A route that runs app.authenticate needs a user's token, one that runs app.authenticateCaller
    // a user's or a machine client's; the scopes its app.requireScopes hook asks for are the
    // OAuth2 scheme's. Derived from the hooks, so the document cannot drift.
    transform: ({ schema, url, route }) => {
      const hooks = [route.onRequest, route.preHandler].flat().filter(h => h !== undefined) as Hook[]
      const users = hooks.includes(app.authenticate as unknown as Hook)
      if (!users && !hooks.includes(app.authenticateCaller as unknown as Hook)) return { schema, url }
      const scopes = hooks.flatMap(hook => hook.requiredScopes ?? [])
      const needs = [
        scopes.length > 0 ? `Requires the scope ${scopes.join(' ')}.` : 'Requires any valid access token.',
        users ? "A user's token: a machine client's gets 403 user_required." : "A user's token or a machine client's."
      ].join(' ')
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
          clientBasic: { type: 'http', scheme: 'basic', description: "A machine client's client_id and client_secret" },
          oauth2: {
            type: 'oauth2',
            flows: {
              password: { tokenUrl: '/auth/token', scopes: SCOPE_DESCRIPTIONS },
              clientCredentials: { tokenUrl: '/auth/token', scopes: SCOPE_DESCRIPTIONS }
            }
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
