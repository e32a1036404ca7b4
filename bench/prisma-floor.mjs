// The start floor of the chosen stack, for the start row: the bare app of baseline-server.mjs
// plus Prisma over the better-sqlite3 adapter, migrating the empty file with the service's own
// migrate() and answering one query before it listens. The service's start is this and the rest.
import Fastify from 'fastify'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '../dist/generated/prisma/client.js'
import { migrate } from '../dist/store/migrate.js'

const url = process.env.DATABASE_URL
await migrate(url)
const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url }) })
await prisma.user.findFirst()

const app = Fastify({ logger: { level: 'info' } })
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
