# One image for every role of the order saga: the command picks it (api | worker --service <name> |
# consumer --service notifications | migrate | seed | promote). Runs TypeScript through tsx (a production dependency
# already), so what runs is exactly what was tested; the only build product is the pre-bundled workflow code. No
# Temporal binaries, no dev dependencies, no local data.

# Production dependencies only; the lockfile decides every version.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The patched postgres driver the lockfile links to (vendor/postgres/PATCHED.md).
COPY vendor ./vendor
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Bundles the workflows once (webpack comes with @temporalio/worker), so workers never bundle at start.
FROM deps AS workflows
COPY tsconfig.json ./
COPY contracts ./contracts
COPY core ./core
COPY workflows ./workflows
COPY workers ./workers
COPY activities ./activities
COPY events ./events
COPY db ./db
RUN node --import tsx workers/workflow-bundle.ts --out dist/workflows.js

FROM node:20-bookworm-slim AS runtime
# The build id workers announce to Temporal (worker deployment versioning); CI passes the commit, e.g. git-<sha>.
ARG BUILD_ID=local
ENV NODE_ENV=production \
    WORKER_BUILD_ID=${BUILD_ID} \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflows.js \
    HOST=0.0.0.0 \
    PORT=3000 \
    WORKER_HTTP_HOST=0.0.0.0 \
    WORKER_HTTP_PORT=9091 \
    CONSUMER_HTTP_HOST=0.0.0.0 \
    CONSUMER_HTTP_PORT=9091 \
    TEMPORAL_METRICS_HOST=0.0.0.0 \
    TEMPORAL_METRICS_PORT=9464
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json tsconfig.json ./
COPY --chown=root:root contracts ./contracts
COPY --chown=root:root core ./core
COPY --chown=root:root db ./db
COPY --chown=root:root events ./events
COPY --chown=root:root activities ./activities
COPY --chown=root:root workflows ./workflows
COPY --chown=root:root workers ./workers
COPY --chown=root:root consumers ./consumers
COPY --chown=root:root api ./api
# The federated graph: the subgraphs' schemas and resolvers, the persisted operations, and the supergraph the
# gateway serves. That supergraph is composed at build time and committed (`npm run graph:compose`, checked by
# `npm run graph:check`), never composed or introspected at run time.
COPY --chown=root:root graph ./graph
COPY --chown=root:root bin/role.ts bin/promote-build.ts ./bin/
COPY --from=workflows --chown=root:root /app/dist/workflows.js ./dist/workflows.js
# Code stays root-owned (read-only to the process); the base image's `node` user runs it, by uid so that
# Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 3000 9091 9464
# node itself is PID 1 (no npm or tsx wrapper), so SIGTERM reaches the process that drains the workers.
ENTRYPOINT ["node", "--import", "tsx", "bin/role.ts"]
CMD ["api"]
