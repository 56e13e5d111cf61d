#!/usr/bin/env bash
# All set-up and the main job on the embedded default: installs the Temporal CLI and the npm packages,
# builds, then runs a full sweep of ResNet-20 over the 10,000 CIFAR-10 test images (../shared) with a
# local Temporal dev server that `pure run` starts itself and local-folder storage (./out): all five
# steps, references -> circuits -> virtual neurons -> crops -> evaluation, the last with the shared
# SqueezeNet 1.1's pooled features (its last Fire module, 512-d) as the image encoder (CLIP in the
# paper; tools/export_encoder.py exports CLIP or DINOv2 where their weights are at hand). Ends with the
# HTML report of the run (`pure report`: an overview, an index per layer, a page per neuron).
# Extra arguments are passed to `pure run` (e.g. --limit 1000, --k 50, --out s3://bucket/prefix).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash infra/tools.sh install temporal
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build

SHARED="${PURE_SHARED_DIR:-../shared}"
summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
node dist/cli/main.js run \
  --model "$SHARED/models/resnet20-cifar10.onnx" \
  --data "$SHARED/datasets/cifar10-test" \
  --layers auto \
  --k 100 \
  --evaluator "$SHARED/models/squeezenet1.1-imagenet.onnx" \
  --evaluator-output /fires.7/Concat_output_0 \
  --evaluator-preprocess imagenet \
  --out out \
  "$@" | tee "$summary"

# The run prints where it is ("Report: npx pure report <run>"); a run stopped early prints no such line.
run_uri="$(sed -n 's/^Report: npx pure report \([^ ]*\).*/\1/p' "$summary" | tail -n 1)"
if [[ -n "$run_uri" ]]; then
  node dist/cli/main.js report "$run_uri"
fi
