# CPU workers (infra/k8s/worker-cpu.yaml): the CPU task queue (workflows, merges, clustering,
# evaluation) and, on nodes without a GPU, the inference queue too. Build from the project root:
#   docker build -f infra/docker/worker-cpu.Dockerfile -t registry.example.com/pure/worker:0.1.0 .
# The build host must reach the npm registry (or a mirror). onnxruntime-node's CPU provider, sharp's and
# DuckDB's binaries come inside npm packages, so nothing else is downloaded, and nothing at run time.
# Not built in this repository's CI (no container runtime there): docs/deploy.md says what was checked.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.json && rm -rf dist/test

# Production dependencies only, installed afresh rather than pruned from the build stage.
FROM node:20-bookworm-slim
# Metrics and /healthz on by default in the image (the HEALTHCHECK and the k8s probes use this port),
# and logs as one JSON object per line (docs/operations.md).
ENV NODE_ENV=production PURE_METRICS_PORT=9464 PURE_LOG_FORMAT=json
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The node image's unprivileged user (uid 1000); the model cache goes to its home (~/.cache/pure).
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PURE_METRICS_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["worker", "--queues", "cpu"]
