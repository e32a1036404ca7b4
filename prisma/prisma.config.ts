// Used by the Prisma CLI only (`npm run db:generate`). The service never reads it: it applies
// prisma/migrations itself at start (src/db/migrate.ts) because the CLI's migrate needs a
// native schema engine that cannot be downloaded everywhere.
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
  datasource: { url: 'file:../data/auth.db' }
})
