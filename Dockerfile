# syntax=docker/dockerfile:1
# One image for every rekor-budget process: workers, drain, dashboard,
# rekor-local and the CLI. Pick the process with the command, e.g.
#   docker run rekor-budget worker --role graph
FROM node:22-bookworm-slim AS build
WORKDIR /src
ENV TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
COPY package.json package-lock.json turbo.json tsconfig.json ./
COPY packages ./packages
COPY apps ./apps
COPY db ./db
COPY scripts ./scripts
COPY attestor.example.yaml ./
RUN npm ci --no-audit --no-fund \
 && npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system rekor && useradd --system --gid rekor --home /app rekor \
 && mkdir -p /data /keys && chown rekor:rekor /data /keys
COPY --from=build --chown=rekor:rekor /src/package.json /src/package-lock.json ./
COPY --from=build --chown=rekor:rekor /src/node_modules ./node_modules
COPY --from=build --chown=rekor:rekor /src/packages ./packages
COPY --from=build --chown=rekor:rekor /src/apps ./apps
COPY --from=build --chown=rekor:rekor /src/db ./db
USER rekor
# dashboard, rekor-local, metrics (/metrics, /healthz, /readyz)
EXPOSE 3000 3030 9464
ENTRYPOINT ["node", "/app/apps/cli/bin/rekor-budget.js"]
CMD ["--help"]
