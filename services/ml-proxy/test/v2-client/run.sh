#!/usr/bin/env bash
# Triton's reference Open Inference Protocol client (Python tritonclient.http, pinned in requirements.txt)
# against a real ML proxy process: builds the client's venv once per requirements.txt and Python into a
# cache outside the checkout (as scripts/k8s/tools.sh caches its tools: CI runs in a fresh clone on the same
# machine), then runs the pytest suite beside this file. The suite starts `node services/ml-proxy/src/main.ts`
# on a free port with the committed models (or uses ML_PROXY_URL when set), waits until it is ready, and
# stops it at the end. Exits non-zero when any check fails or none ran.
#   services/ml-proxy/test/v2-client/run.sh [pytest arguments]
#   services/ml-proxy/test/v2-client/run.sh lock   # re-pin requirements.txt from requirements.in
# Needs Python 3.11 (PYTHON=... to choose) and the workspace installed (pnpm install).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
PYTHON="${PYTHON:-python3}"
log() { echo "v2-client: $*" >&2; }

# shellcheck source=scripts/pinned-venv.sh
source "$root/scripts/pinned-venv.sh"
if [[ "${1:-}" == lock ]]; then
  pinned_venv_lock "$here" "the V2 client check"
  exit 0
fi
venv="$(pinned_venv "$here" v2client)"

# shellcheck source=scripts/toolchain.sh
source "$root/scripts/toolchain.sh"
if [[ ! -d "$root/node_modules" ]]; then
  log "the workspace is not installed: run 'pnpm install' first"
  exit 1
fi

cd "$root"
PYTHONDONTWRITEBYTECODE=1 exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$here" "$@"
