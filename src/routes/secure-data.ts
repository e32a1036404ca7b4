// The FastAPI tutorials' example of a protected route, kept so that their clients work as is.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorReply } from '../schemas/common.js'

const secureData: FastifyPluginAsyncTypebox = async (app) => {
  // A synchronous handler: an async one costs every request a promise and its microtasks.
  app.get('/secure-data', {
    onRequest: app.authenticateCaller,
    schema: {
      summary: "Any valid access token may read this, a user's or a machine client's",
      tags: ['example'],
      response: { 200: Type.Object({ message: Type.String() }), 401: ErrorReply }
    }
  }, () => ({ message: 'This is secure data!' }))
}

export default secureData
