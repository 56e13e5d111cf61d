# GPU inference workers (infra/k8s/worker-gpu.yaml). Build from the project root:
#   docker build -f infra/docker/worker-gpu.Dockerfile -t registry.example.com/pure/worker-gpu:0.1.0 .
# The build host must reach the npm registry and PyPI (or mirrors of both); no NuGet: onnxruntime's CUDA
# provider and the CUDA 13 / cuDNN 9 libraries come from PyPI (`bash infra/tools.sh install gpu`,
# infra/README.md, "CUDA for onnxruntime-node"). The base is a plain Debian: the only thing the host
# gives is the NVIDIA driver (libcuda.so.1, >= 580 for CUDA 13), mounted by the NVIDIA container toolkit.
# Nothing is downloaded when the container runs.
# Not built in this repository's CI (no container runtime there): docs/deploy.md says what was checked.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.json && rm -rf dist/test

# Production dependencies, then the gpu install into them: it links the provider next to
# onnxruntime-node's libonnxruntime.so.1 and points the provider at the CUDA libraries by absolute path
# (/app/.tools/gpu/...), so the runtime stage keeps every path as it is here.
FROM node:20-bookworm-slim AS gpu
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY infra ./infra
RUN bash infra/tools.sh install gpu

FROM node:20-bookworm-slim
# Metrics and /healthz on by default (the HEALTHCHECK and the k8s probes use this port), JSON logs
# (docs/operations.md). The NVIDIA_* variables ask the NVIDIA container toolkit for the driver's compute
# libraries (the nvidia/cuda images set them; this plain base must).
ENV NODE_ENV=production PURE_METRICS_PORT=9464 PURE_LOG_FORMAT=json \
    NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /app
COPY package.json ./
COPY --from=gpu /app/node_modules ./node_modules
# Only what runs: the two provider libraries (node_modules links to them) and the CUDA / cuDNN libraries.
COPY --from=gpu /app/.tools/gpu/cuda/nvidia ./.tools/gpu/cuda/nvidia
COPY --from=gpu /app/.tools/gpu/ort/onnxruntime/capi/libonnxruntime_providers_cuda.so \
     /app/.tools/gpu/ort/onnxruntime/capi/libonnxruntime_providers_shared.so ./.tools/gpu/ort/onnxruntime/capi/
COPY --from=build /app/dist ./dist
# The node image's unprivileged user (uid 1000); the model cache goes to its home (~/.cache/pure).
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PURE_METRICS_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
# The worker checks its GPU before it connects: without a driver or GPU it exits with one message.
CMD ["worker", "--queues", "inference", "--device", "cuda"]
