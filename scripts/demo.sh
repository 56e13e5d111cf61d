#!/usr/bin/env bash
# All set-up and the main job on the embedded default: installs the Temporal CLI and the npm packages,
# builds, then runs a full sweep of ResNet-20 over the 10,000 CIFAR-10 test images (../shared) with a
# local Temporal dev server that `pure run` starts itself and local-folder storage (./out).
# Extra arguments are passed to `pure run` (e.g. --limit 1000, --k 50, --out s3://bucket/prefix).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash infra/tools.sh install temporal
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build

SHARED="${PURE_SHARED_DIR:-../shared}"
exec node dist/cli/main.js run \
  --model "$SHARED/models/resnet20-cifar10.onnx" \
  --data "$SHARED/datasets/cifar10-test" \
  --layers auto \
  --k 100 \
  --out out \
  "$@"
