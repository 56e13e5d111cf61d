#!/usr/bin/env bash
# Dev-only: PyTorch (Debian's python3-torch, 1.13) + onnx2torch + zennit in .tools/torch-venv, for
# test/dev/torch-crosscheck.ts. Idempotent. Not used by CI (apt-get needs root and ~1 GB).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.tools/torch-venv
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  echo "[torch-setup] apt-get install python3-torch python3-torchvision (Debian)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch python3-torchvision >/dev/null
fi
if ! "$venv/bin/python" -c 'import onnx2torch, zennit, onnx' 2>/dev/null; then
  echo "[torch-setup] $venv: onnx2torch, zennit, onnx (no dependencies: torch stays Debian's)" >&2
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  # --no-deps: onnx2torch would otherwise pull a second, CUDA-sized torch from PyPI.
  "$venv/bin/pip" install -q --no-deps onnx2torch==1.5.15 zennit==0.5.1 onnx==1.16.2
  # Debian's python3-protobuf (4.21.12), where installed, is visible through --system-site-packages
  # and satisfies a version range, so pip would keep it; onnx 1.16.2's generated code does not load on
  # it (ImportError: IR_VERSION_2021_7_30). A pinned copy in the venv shadows it (its site-packages
  # come first on sys.path).
  "$venv/bin/pip" install -q --no-deps --ignore-installed protobuf==4.25.3
fi
"$venv/bin/python" -c 'import torch, zennit, onnx2torch, onnx, google.protobuf as pb; print("[torch-setup] torch", torch.__version__, "onnx", onnx.__version__, "protobuf", pb.__version__, pb.__file__)' >&2
