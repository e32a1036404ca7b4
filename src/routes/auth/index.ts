import type { FastifyPluginAsync } from 'fastify'
import register from './register.js'
import token from './token.js'
import refresh from './refresh.js'
import login from './login.js'
import csrf from './csrf.js'
import revoke from './revoke.js'
import introspect from './introspect.js'
import me from './me.js'
import logout from './logout.js'
import password from './password.js'
import sessions from './sessions.js'
import passwordReset from './password-reset.js'
import email from './email.js'
import mfa from './mfa.js'
import passkeys from './passkeys.js'

const auth: FastifyPluginAsync = async (app) => {
  await app.register(register)
  await app.register(token)
  await app.register(refresh)
  await app.register(login)
  await app.register(csrf)
  await app.register(revoke)
  await app.register(introspect)
  await app.register(me)
  await app.register(logout)
  await app.register(password)
  await app.register(sessions)
  await app.register(passwordReset)
  await app.register(email)
  await app.register(mfa)
  await app.register(passkeys)
}

export default auth
