// The OpenAPI 3 document at /docs/json and Swagger UI at /docs. The OAuth2 password flow points
// at the token endpoint, so the UI's Authorize button logs in like any API client.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { SCOPE_DESCRIPTIONS } from '../../roles.js'

export default fp(async function openapi (app) {
  await app.register(swagger, {
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
  await app.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'swagger' })
