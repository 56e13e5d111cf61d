#!/usr/bin/env bash
# Dev-only: one small `pure run` per torchvision family (MobileNetV3-Large, EfficientNet-B0, ConvNeXt-T,
# DenseNet-121; random weights, test/dev/export-families.py) on the shared ImageNet photos, then a table:
# family, layers, neurons, seconds, status. Each run explains the upper layer of the family's first pair
# in test/dev/families.ts (two --layers auto stage outputs) with its preprocessing preset `imagenet`
# (resize 256, centre crop 224, as for the shared SqueezeNet), LIMIT images (300), k = K (8) and 2-3
# clusters, up to the virtual neurons (no evaluator). Every neuron of the upper layer is explained:
# `pure run` has no neuron range. Needs a build (npm run build) and the torch-venv for the exports
# (test/dev/torch-setup.sh); exports missing models first.
#
#   bash test/dev/families-run.sh [family ...]      # default: all; LIMIT, K, OUT override
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SHARED="${PURE_SHARED_DIR:-../shared}"
LIMIT="${LIMIT:-300}"
K="${K:-8}"
OUT="${OUT:-out/families-$(date +%Y%m%d-%H%M%S)}"
PYTHON="${PURE_TORCH_PYTHON:-.tools/torch-venv/bin/python}"
mkdir -p "$OUT"

"$PYTHON" test/dev/export-families.py "$@" >/dev/null || exit 1
rows=()
while IFS=$'\t' read -r name model lower upper; do
  if [[ $# -gt 0 && ! " $* " =~ " $name " ]]; then continue; fi
  neurons="$(node dist/cli/main.js layers "$model" --all | awk -v t="$upper" '$1 == t { split($3, d, "x"); print d[2] }')"
  log="$OUT/$name.log"
  echo "[families-run] $name: $lower -> $upper ($neurons neurons), log $log" >&2
  start=$(date +%s)
  node dist/cli/main.js run --model "$model" --data "$SHARED/datasets/imagenet-samples" \
    --layers "$lower,$upper" --preprocess imagenet --limit "$LIMIT" -k "$K" --clusters 2,3 \
    --until virtual-neurons --out "$OUT" >"$log" 2>&1
  rc=$?
  seconds=$(($(date +%s) - start))
  status=$([[ $rc -eq 0 ]] && echo ok || echo "FAILED (exit $rc)")
  rows+=("$name|${lower##*/features/} -> ${upper##*/features/}|$neurons|$seconds|$status")
done < <(node dist/test/dev/families.js)

printf '\n%-20s %-70s %8s %8s  %s\n' family layers neurons seconds status
failed=0
for row in "${rows[@]}"; do
  IFS='|' read -r name layers neurons seconds status <<<"$row"
  printf '%-20s %-70s %8s %8s  %s\n' "$name" "$layers" "$neurons" "$seconds" "$status"
  [[ $status == ok ]] || failed=1
done
echo "images: $LIMIT (imagenet-samples), k = $K, outputs in $OUT"
exit $failed
