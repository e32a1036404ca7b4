import type { FastifyPluginAsync } from 'fastify'
import users from './users.js'
import audit from './audit.js'
import clients from './clients.js'

const admin: FastifyPluginAsync = async (app) => {
  await app.register(users)
  await app.register(audit)
  await app.register(clients)
}

export default admin
