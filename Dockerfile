# authd: build with the devDependencies, run with the production ones only.
# .ci/run replays the runtime stage's steps as a plain process (prune, start on an empty
# database, /ready), since no Docker engine runs in CI.

# Node.js 24 LTS, on the Debian release the tests run on. Nothing compiles: better-sqlite3 13
# ships its native addon prebuilt inside the package (Node-API, glibc and musl, x64 and arm64).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY prisma ./prisma
COPY src ./src
# --omit=optional too: the Prisma CLI and TypeScript are optional peers of @prisma/client, so
# --omit=dev alone keeps them (npm marks them devOptional); no optional package is needed at run time.
RUN npm run build && npm prune --omit=dev --omit=optional --no-audit --no-fund
# V8's compile cache (dist/.compile-cache, see src/server.ts): Node keeps a folder per user in
# it, and the build's is root's. It is made again as node, whom the service runs as; the runtime
# stage copies it as root's, which node reads and cannot change.
RUN rm -rf dist/.compile-cache && install -d -o node dist/.compile-cache
USER node
RUN node dist/cli/warm-compile-cache.js
USER root

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=file:/app/data/auth.db
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The migrations are applied at start, from here.
COPY --from=build /app/prisma ./prisma
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/ready`).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# JWT_SECRET must be provided: `docker run -e JWT_SECRET=$(openssl rand -base64 48) -v authd:/app/data -p 3000:3000 authd`
# dist/server.js turns V8's compile cache on (dist/.compile-cache: only read here, where dist/ is
# root's) and loads the service, bundled into one file, dist/service.js (package.json's `bundle`
# script). Beside it in dist/: its validators and serializers compiled at build time
# (schemas.cjs, which loads Ajv's and fast-json-stringify's runtime helpers from node_modules).
# It loads better-sqlite3, piscina and Prisma's query compiler from node_modules, and serves
# Swagger UI's files from there.
CMD ["node", "dist/server.js"]
