#!/usr/bin/env bash
# All set-up and every test, on a fresh machine or an old one: what CI runs (.ci/run) and what a
# developer runs. Installs the real services' binaries into .tools/, the npm packages, starts a
# Temporal dev server and MinIO on loopback, builds, lints, and runs unit + integration tests.
# The report's browser tests leave screenshots in test-artifacts/browser/ (CI keeps them as an artefact).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash infra/tools.sh install
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

# Services: started here, stopped on exit unless they were already running before this script.
started=()
cleanup() { for s in "${started[@]}"; do bash "infra/$s.sh" stop || true; done; }
trap cleanup EXIT
for service in temporal minio; do
  if ! bash "infra/$service.sh" status >/dev/null 2>&1; then started+=("$service"); fi
  PURE_TEMPORAL_UI=off bash "infra/$service.sh" start
done
eval "$(bash infra/env.sh)"

npm test
