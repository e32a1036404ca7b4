// Development tool: `npm run db:migration -- <name>` writes prisma/migrations/<timestamp>_<name>/
// with the SQL that takes a database from the current migrations to prisma/schema.prisma.
// It replays the migrations into a scratch database and diffs that against the schema, the
// same result as `prisma migrate dev --create-only` without the native engine it needs.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withSchemaEngine } from './schema-engine.js'
import { applyMigrations, migrationsDir, noFilters, schemaPath } from './migrate.js'

const name = process.argv[2]
if (name === undefined || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run db:migration -- <name in snake_case>')
  process.exit(2)
}

const scratch = await mkdtemp(join(tmpdir(), 'authd-migration-'))
try {
  const url = `file:${join(scratch, 'scratch.db')}`
  const sql = await withSchemaEngine(url, schemaPath, async engine => {
    await applyMigrations(engine)
    const result = await engine.diff({
      from: { tag: 'schemaDatasource', files: [{ path: schemaPath, content: await readFile(schemaPath, 'utf8') }], configDir: scratch },
      to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: await readFile(schemaPath, 'utf8') }] },
      script: true,
      exitCode: null,
      filters: noFilters
    })
    return result.stdout ?? ''
  })
  if (sql.trim() === '' || /^-- This is an empty migration/.test(sql.trim())) {
    console.log('The migrations already match prisma/schema.prisma: nothing to write.')
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
    const dir = join(migrationsDir, `${stamp}_${name}`)
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'migration.sql'), sql)
    console.log(`wrote ${dir}/migration.sql`)
  }
} finally {
  await rm(scratch, { recursive: true, force: true })
}
