#!/usr/bin/env bash
# `pure report` on finished runs, with heatmap crops and with --no-crops, alternating: wall time, size,
# files and peak memory of each (docs/benchmarks.md, "Report"). Rewrites each run's report/ folder.
#   bash test/bench/report.sh [repeats] RUN...      e.g. bash test/bench/report.sh 2 out/resnet20-cifar10-*
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repeats="${1:-1}"
shift || true
[[ $# -gt 0 ]] || { echo "usage: bash test/bench/report.sh [repeats] RUN..." >&2; exit 2; }

measure() {
  local run=$1 rss
  shift
  rm -rf "$run/report"
  rss="$(mktemp)"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$rss" node dist/cli/main.js report "$run" "$@" >/dev/null
  t1=$(date +%s.%N)
  printf '%s %s: %.1f s, %s MB, %s files, peak RSS %s MB, load %s\n' "$run" "${*:-(crops)}" \
    "$(echo "$t1 - $t0" | bc)" "$(du -s --apparent-size --block-size=1M "$run/report" | cut -f1)" \
    "$(find "$run/report" -type f | wc -l)" "$(($(cat "$rss") / 1024))" "$(cut -d' ' -f1-3 /proc/loadavg)"
  rm -f "$rss"
}

lscpu | grep -m1 'Model name' || true
grep -o -w 'avx512f\|avx2' /proc/cpuinfo | sort | uniq -c || true
for run in "$@"; do
  for _ in $(seq "$repeats"); do
    measure "$run"
    measure "$run" --no-crops
  done
done
