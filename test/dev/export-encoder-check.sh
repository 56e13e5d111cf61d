#!/usr/bin/env bash
# Dev-only check of tools/export_encoder.py (not run by CI: it needs apt-get and ~1.5 GB).
#
# Sets up .tools/encoder-venv on Debian's torch (python3-torch 1.13 + python3-torchvision, apt-installed
# if missing) with open_clip, transformers, onnx and onnxruntime pinned from PyPI, then, with random
# weights (nothing can be downloaded here):
#   1. exports CLIP ViT-B-32 and DINOv2-small with --random-init (each export compares onnxruntime
#      for Python with torch and fails past 1e-3);
#   2. runs both files in Node with the project's onnxruntime-node (test/dev/run-encoder.mjs) on the
#      same input as onnxruntime for Python and fails past 1e-4;
#   3. exports both from weights saved the way users have them (open_clip checkpoint file;
#      save_pretrained folder) and compares with an independent torch computation.
# Idempotent. KEEP=1 keeps the exported files (in $OUT, default a fresh /tmp folder).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.tools/encoder-venv
python="$venv/bin/python"
log() { echo "[export-encoder-check] $*" >&2; }

# Versions that work together on Debian 12's Python 3.11, torch 1.13 and numpy 1.24. Everything is
# installed with --no-deps: open_clip_torch would otherwise pull a second, CUDA-sized torch (and timm,
# which a ViT tower does not need), and onnxruntime's numpy range must stay on Debian's numpy.
pins=(
  open_clip_torch==2.24.0 ftfy==6.1.3 wcwidth==0.2.13 regex==2023.12.25 tqdm==4.66.2
  huggingface_hub==0.20.3 filelock==3.13.1 fsspec==2024.2.0
  transformers==4.40.2 tokenizers==0.19.1 safetensors==0.4.3
  onnx==1.16.2 onnxruntime==1.19.2 coloredlogs==15.0.1 humanfriendly==10.0 flatbuffers==24.3.25
)

if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  log "apt-get install python3-torch python3-torchvision (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch python3-torchvision >/dev/null
fi
if ! "$python" -c 'import open_clip, transformers, onnx, onnxruntime' 2>/dev/null; then
  log "$venv: ${pins[*]}"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install -q --no-deps "${pins[@]}"
  # Debian's python3-protobuf, where installed, is too old for onnx; a venv copy shadows it.
  "$venv/bin/pip" install -q --no-deps --ignore-installed 'protobuf==4.25.3'
fi
"$python" - >&2 <<'EOF'
import numpy, onnx, onnxruntime, torch, transformers
from open_clip.version import __version__ as open_clip_version
print(f"[export-encoder-check] torch {torch.__version__}, open_clip {open_clip_version}, "
      f"transformers {transformers.__version__}, onnx {onnx.__version__}, "
      f"onnxruntime {onnxruntime.__version__}, numpy {numpy.__version__}")
EOF
[ -d node_modules/onnxruntime-node ] || { log "node_modules/onnxruntime-node missing: run npm ci"; exit 1; }

out="${OUT:-$(mktemp -d /tmp/pure-encoder-check.XXXXXX)}"
mkdir -p "$out"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$out"' EXIT

for family in clip dinov2; do
  model="$out/$family-random.onnx"
  log "export $family --random-init -> $model"
  start=$SECONDS
  "$python" tools/export_encoder.py --family "$family" --random-init --out "$model" >"$out/$family-export.json"
  log "  $(cat "$out/$family-export.json") (wall $((SECONDS - start)) s)"
  log "  preprocess: $(cat "$model.json")"
  "$python" test/dev/encoder_check.py reference "$model" "$out/$family-in.bin" "$out/$family-py.bin" >"$out/$family-py.json"
  node test/dev/run-encoder.mjs "$model" "$out/$family-in.bin" "$out/$family-py.bin" >"$out/$family-node.json"
  log "  onnxruntime python: $(cat "$out/$family-py.json")"
  log "  onnxruntime-node:   $(cat "$out/$family-node.json")"
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (!(r.maxAbsDiffVsReference <= 1e-4)) { console.error("node vs python differ by", r.maxAbsDiffVsReference); process.exit(1); }
  ' "$out/$family-node.json"
done

for family in clip dinov2; do
  log "export $family from saved weights (--weights), compare with an independent torch computation"
  "$python" test/dev/encoder_check.py weights --family "$family" --dir "$out/weights" | tail -n 1 >&2
done

log "sizes: $(cd "$out" && du -h ./*.onnx weights/*.onnx | tr '\t\n' ' ')"
echo "export-encoder-check: ok"
