import type { FastifyPluginAsync } from 'fastify'
import users from './users.js'
import audit from './audit.js'

const admin: FastifyPluginAsync = async (app) => {
  await app.register(users)
  await app.register(audit)
}

export default admin
