#!/usr/bin/env bash
# The GPU worker path end to end on one machine with an NVIDIA GPU, in a few minutes:
#   1. the gpu install (bash infra/tools.sh install gpu: onnxruntime's CUDA provider + CUDA 13 / cuDNN 9
#      from PyPI) and nvidia-smi;
#   2. the build (npm ci first where node_modules is missing);
#   3. the attribution benchmark with its sessions on the device (test/bench/attribution.bench.ts);
#   4. a small sweep of the shared ResNet-20 (200 CIFAR-10 images, k 10, up to the virtual neurons) with
#      the in-process worker on the device (`pure run --device`);
#   5. circuit vectors on the device against the CPU's for the same rows: every row's cosine >= 0.9999
#      (test/dev/device-crosscheck.ts).
# Prints a short summary; with $OUT set, writes the numbers and each step's output there
# (gpu-check.json, gpu-check.txt, <step>.log).
#
#   bash scripts/gpu-check.sh                 # on the GPU machine
#   bash scripts/gpu-check.sh --device cpu    # dry run: every step on the CPU, without the gpu install and
#                                             # nvidia-smi (proves the script before GPU time is spent)
#
# Needs the shared model and images (PURE_SHARED_DIR, default ../shared) and, for npm ci / the installs,
# the npm registry and PyPI. Exit status: 0 when every step passed, 1 otherwise (later steps still run).
# Tunables: GPU_CHECK_BENCH_BATCH (64 rows, a multiple of 8), GPU_CHECK_LIMIT (200 images), GPU_CHECK_THREADS (CPU threads, 0 = all).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

device=cuda
while [[ $# -gt 0 ]]; do
  case "$1" in
  --device)
    device="${2:-}"
    shift 2
    ;;
  --device=*)
    device="${1#--device=}"
    shift
    ;;
  *)
    echo "usage: bash scripts/gpu-check.sh [--device cuda|cpu]" >&2
    exit 2
    ;;
  esac
done
[[ "$device" == cuda || "$device" == cpu ]] || {
  echo "gpu-check: --device takes cuda or cpu, got '$device'" >&2
  exit 2
}

SHARED="${PURE_SHARED_DIR:-$(cd .. && pwd)/shared}"
MODEL="$SHARED/models/resnet20-cifar10.onnx"
DATA="$SHARED/datasets/cifar10-test"
BENCH_BATCH="${GPU_CHECK_BENCH_BATCH:-64}"
if ! [[ "$BENCH_BATCH" =~ ^[0-9]+$ ]] || ((BENCH_BATCH == 0 || BENCH_BATCH % 8 != 0)); then
  echo "[gpu-check] GPU_CHECK_BENCH_BATCH=$BENCH_BATCH: the benchmark runs K = 1 and 8 neurons per image, so the rows must be a positive multiple of 8" >&2
  exit 2
fi
LIMIT="${GPU_CHECK_LIMIT:-200}"
THREADS="${GPU_CHECK_THREADS:-0}"
if [[ -n "${OUT:-}" ]]; then
  results="$OUT"
else
  results="$(mktemp -d)"
fi
mkdir -p "$results"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

say() { printf '[gpu-check] %s\n' "$*" >&2; }
fail_setup() {
  say "ERROR: $1"
  exit 1
}

[[ -f "$MODEL" && -d "$DATA" ]] ||
  fail_setup "no $MODEL or $DATA: point PURE_SHARED_DIR at the shared folder (models/, datasets/)"

# A copy of a worktree may carry node_modules / .tools as links to a checkout that is not there.
for link in node_modules .tools; do
  if [[ -L "$link" && ! -e "$link" ]]; then
    say "$link is a dangling link ($(readlink "$link")); replacing it with a folder of this checkout's own"
    rm "$link"
  fi
done

declare -a names=() statuses=() seconds=()
# step NAME CMD...: run CMD with its output in $results/NAME.log (and its tail on stderr), record the result.
step() {
  local name="$1" t0=$SECONDS rc=0
  shift
  say "$name: $*"
  "$@" >"$results/$name.log" 2>&1 || rc=$?
  tail -n 15 "$results/$name.log" >&2
  names+=("$name")
  statuses+=("$([[ $rc == 0 ]] && echo ok || echo "FAILED (exit $rc)")")
  seconds+=("$((SECONDS - t0))")
  say "$name: $([[ $rc == 0 ]] && echo ok || echo "FAILED (exit $rc), see $results/$name.log") in $((SECONDS - t0)) s"
  return "$rc"
}

if [[ ! -d node_modules/onnxruntime-node ]]; then
  step npm-ci npm ci --no-audit --no-fund || fail_setup "npm ci failed (see $results/npm-ci.log)"
fi
if [[ "$device" == cuda ]]; then
  step install-gpu bash infra/tools.sh install gpu || fail_setup "the gpu install failed (see $results/install-gpu.log)"
  step nvidia-smi nvidia-smi || true
fi
step install-temporal bash infra/tools.sh install temporal || fail_setup "the Temporal CLI install failed"
step build npx tsc -p tsconfig.json || fail_setup "the build failed (see $results/build.log)"

bench_threads="$THREADS"
[[ "$bench_threads" != 0 ]] || bench_threads="$(nproc)"
step bench env PURE_BENCH_DEVICE="$device" node dist/test/bench/attribution.bench.js "$bench_threads" "$BENCH_BATCH" 1,8 || true

threads_flag=()
[[ "$THREADS" == 0 ]] || threads_flag=(--threads "$THREADS")
step sweep node dist/cli/main.js run --model "$MODEL" --data "$DATA" --layers auto --limit "$LIMIT" --k 10 \
  --until virtual-neurons --device "$device" "${threads_flag[@]}" --out "$work/out" --state-dir "$work/state" || true

step crosscheck node dist/test/dev/device-crosscheck.js --device "$device" --images 64 --per-image 8 \
  --threads "$THREADS" --out "$results/crosscheck.json" || true

# Summary: each step's status and time, the benchmark's lines, the sweep's and the crosscheck's last line.
{
  echo "gpu-check --device $device on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  if [[ "$device" == cuda && -f "$results/nvidia-smi.log" ]]; then
    grep -m1 -E 'Driver Version' "$results/nvidia-smi.log" || true
  fi
  for i in "${!names[@]}"; do
    printf '%-17s %-20s %4d s\n' "${names[$i]}" "${statuses[$i]}" "${seconds[$i]}"
  done
  echo "--- bench"
  grep -E 'vectors/s|cores visible' "$results/bench.log" || true
  echo "--- sweep"
  grep -E '^Done:|neurons split' "$results/sweep.log" || true
  echo "--- crosscheck"
  tail -n 1 "$results/crosscheck.log" || true
} | tee "$results/gpu-check.txt"

failed=0
{
  printf '{\n  "device": "%s",\n  "steps": [\n' "$device"
  for i in "${!names[@]}"; do
    [[ "${statuses[$i]}" == ok ]] || failed=1
    printf '    {"name": "%s", "status": "%s", "seconds": %d}%s\n' "${names[$i]}" "${statuses[$i]}" "${seconds[$i]}" \
      "$([[ $i -lt $((${#names[@]} - 1)) ]] && echo , || true)"
  done
  printf '  ],\n  "crosscheck": %s\n}\n' "$(cat "$results/crosscheck.json" 2>/dev/null || echo null)"
} >"$results/gpu-check.json"
say "results in $results (gpu-check.txt, gpu-check.json, one .log per step)"
exit "$failed"
