// The direction imports may go: routes → plugins → domain (src/auth) → store. Read from the
// source's import statements, so that a wrong-way import fails here rather than in a review.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import t from 'tap'

const src = new URL('../src/', import.meta.url).pathname

function sources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Each file under src/ with what it imports: packages by name, modules by their path under src/. */
const graph = new Map(sources(src).map(file => {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)]
    .map(match => match[1] ?? match[2] ?? match[3])
  const imports = specifiers.map(specifier => specifier.startsWith('.')
    ? relative(src, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts')
    : specifier)
  return [relative(src, file), imports] as const
}))

const offenders = (files: (file: string) => boolean, forbidden: (imported: string, file: string) => boolean) =>
  [...graph].filter(([file]) => files(file)).flatMap(([file, imports]) =>
    imports.filter(imported => forbidden(imported, file)).map(imported => `${file} → ${imported}`))

t.test('the import graph is read: it sees relative modules and packages', async t => {
  t.ok(graph.size > 40, `${graph.size} files`)
  t.ok(graph.get('app.ts')?.includes('routes/auth/index.ts'))
  t.ok(graph.get('app.ts')?.includes('fastify'))
})

t.test('a route never imports another route; an index registers its own folder\'s routes', async t => {
  t.same(offenders(file => file.startsWith('routes/'), (imported, file) =>
    imported.startsWith('routes/') && !(file.endsWith('index.ts') && dirname(imported) === dirname(file))), [])
})

t.test('schemas import nothing above them: no plugin, route or database code', async t => {
  t.same(offenders(file => file.startsWith('schemas/'), imported =>
    /^(plugins|routes|db|store|generated)\//.test(imported) || imported === 'app.ts'), [])
})

t.test('the domain (src/auth) knows no Fastify, plugin or route', async t => {
  t.same(offenders(file => file.startsWith('auth/'), imported =>
    /^(plugins|routes)\//.test(imported) || imported === 'fastify' || imported.startsWith('@fastify/') || imported === 'fastify-plugin'), [])
})

t.test('plugins never import routes', async t => {
  t.same(offenders(file => file.startsWith('plugins/'), imported => imported.startsWith('routes/')), [])
})

// Prisma, SQL and the driver belong to the store, and only to it.
t.test('only the store imports Prisma, better-sqlite3 or pg', async t => {
  const database = (imported: string) => imported === 'better-sqlite3' || imported === 'pg' || imported.startsWith('@prisma/') || imported.startsWith('generated/')
  t.same(offenders(file => !file.startsWith('store/'), database), [])
})

t.test('the store imports nothing above it: no domain, plugin, route or schema', async t => {
  t.same(offenders(file => file.startsWith('store/'), imported =>
    /^(auth|plugins|routes|schemas)\//.test(imported) || imported === 'app.ts' || imported === 'fastify'), [])
})

// (service.ts also takes the engine's start error, before the app and either engine's driver load;
// the tracing module takes the queries' instrumentation without the rest.)
t.test('outside the store, only its index is imported: its modules are its own business', async t => {
  t.same(offenders(file => !file.startsWith('store/'), imported =>
    imported.startsWith('store/') && !['store/index.ts', 'store/engine.ts', 'store/query-tracing.ts'].includes(imported)), [])
})
