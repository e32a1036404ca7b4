// Writes prisma/postgres/schema.prisma: the models of prisma/schema.prisma, unchanged, for
// PostgreSQL. Prisma fixes the provider per schema file, so the one set of models gives two
// schemas and two generated clients; only the datasource and the client's folder differ.
import { readFileSync, writeFileSync } from 'node:fs'

const source = new URL('./schema.prisma', import.meta.url)
const target = new URL('./postgres/schema.prisma', import.meta.url)

export function postgresSchema (text) {
  const replaced = text
    .replace(/provider = "sqlite"/, 'provider = "postgresql"')
    .replace(/output(\s+)= "\.\.\/src\/generated\/prisma"/, 'output$1= "../../src/generated/postgres"')
  if (!replaced.includes('"postgresql"') || !replaced.includes('generated/postgres')) {
    throw new Error('prisma/schema.prisma no longer has the datasource or generator this script rewrites')
  }
  return '// Generated from ../schema.prisma by ../postgres-schema.mjs (npm run db:generate): edit that one.\n' + replaced
}

writeFileSync(target, postgresSchema(readFileSync(source, 'utf8')))
