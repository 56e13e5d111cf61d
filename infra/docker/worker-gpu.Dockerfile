# Sample image for GPU inference workers (see infra/k8s/worker-gpu.yaml). Build from the project root:
#   docker build -f infra/docker/worker-gpu.Dockerfile -t registry.example.com/pure/worker-gpu:0.1.0 .
# The build host must reach the npm registry and NuGet (or mirrors of both): onnxruntime-node's CUDA
# provider comes from NuGet. Nothing is downloaded when the container runs.
# Not built in this repository's CI (no container runtime, no NuGet there): a template to adapt.

FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
# .npmrc skips onnxruntime-node's postinstall (dev machines and CI have no NuGet). Here we want it:
# ONNXRUNTIME_NODE_INSTALL takes precedence over the .npmrc setting and fetches the CUDA 12 provider
# (libonnxruntime_providers_cuda.so, _shared.so, _tensorrt.so) next to the CPU binding.
RUN ONNXRUNTIME_NODE_INSTALL=1 node node_modules/onnxruntime-node/script/install.js \
    && ls node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime_providers_cuda.so
COPY . .
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

# CUDA 12 + cuDNN 9 runtime, as onnxruntime-node 1.30's CUDA provider expects.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./
# As the CPU image: metrics and /healthz on 9464, JSON logs (docs/operations.md).
ENV NODE_ENV=production PURE_METRICS_PORT=9464 PURE_LOG_FORMAT=json
USER 1000:1000
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PURE_METRICS_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["worker", "--queues", "inference", "--device", "cuda"]
