// Accounts (src/auth/accounts.ts): registration, the password check, the password change.
import fp from 'fastify-plugin'
import { createAccounts, type Accounts } from '../../auth/accounts.js'

declare module 'fastify' {
  interface FastifyInstance {
    accounts: Accounts
  }
}

export default fp(async function accounts (app) {
  app.decorate('accounts', createAccounts({
    store: app.store,
    passwords: app.passwords,
    revocation: app.revocation,
    mailTokens: app.mailTokens,
    bcryptRounds: app.config.BCRYPT_ROUNDS
  }))
}, { name: 'accounts', dependencies: ['store', 'passwords', 'revocation', 'mail-tokens'] })
