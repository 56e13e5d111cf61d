#!/usr/bin/env bash
# Benchmark of a whole sweep on the embedded default (local Temporal dev server, in-process worker, local
# folder), ResNet-20 on the CIFAR-10 test set, stage by stage: references alone (--until references), then
# the same run resumed to the end (references reused, circuits + virtual neurons computed), then a re-run
# of the finished sweep (everything reused). Usage: bash test/bench/sweep.sh [images (0 = all 10,000)]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
LIMIT="${1:-0}"
SHARED="${PURE_SHARED_DIR:-../shared}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
run() {
  node dist/cli/main.js run --model "$SHARED/models/resnet20-cifar10.onnx" --data "$SHARED/datasets/cifar10-test" \
    --layers auto --limit "$LIMIT" --out "$OUT" --run bench "$@" >/dev/null 2>&1
}
seconds() { local t0=$SECONDS; "$@"; echo $((SECONDS - t0)); }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), node $(node --version); images: ${LIMIT/#0/10000}"
echo "| step | wall time (s) |"
echo "|---|---|"
echo "| references (ActMax, 3 layers, k=100), incl. embedded server start | $(seconds run --until references) |"
echo "| circuits + virtual neurons (32 + 64 neurons), references reused | $(seconds run) |"
echo "| re-run of the finished sweep (no-op) | $(seconds run) |"
