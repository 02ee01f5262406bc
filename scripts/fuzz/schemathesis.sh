#!/usr/bin/env bash
# Schemathesis (pinned in requirements.txt) against the OpenAPI document each service serves at
# /openapi.json, every check on, each service a real process (schemathesis.ts starts them on free ports,
# the way the run command does, with dev-key tokens for the BFF's credentials). Builds schemathesis's venv
# once per requirements.txt and Python into a cache outside the checkout (as the V2 client check does),
# then runs. Exits non-zero when any check fails on any service, or a service dies. What is excluded, and
# why, is in README.md and schemathesis.toml beside this file.
#   scripts/fuzz/schemathesis.sh [--services geo,ml-proxy,vendor-bff] [--max-examples N] [--seed N]
#                                [--serve] [-- <more schemathesis run arguments>]
#   scripts/fuzz/schemathesis.sh lock   # re-pin requirements.txt from requirements.in
# Needs Python 3.11 (PYTHON=... to choose) and the workspace installed (pnpm install).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
log() { echo "fuzz: $*" >&2; }

# shellcheck source=scripts/pinned-venv.sh
source "$root/scripts/pinned-venv.sh"
if [[ "${1:-}" == lock ]]; then
  pinned_venv_lock "$here" "the fuzz step"
  exit 0
fi
venv="$(pinned_venv "$here" schemathesis)"

# shellcheck source=scripts/toolchain.sh
source "$root/scripts/toolchain.sh"
if [[ ! -d "$root/node_modules" ]]; then
  log "the workspace is not installed: run 'pnpm install' first"
  exit 1
fi

cd "$root"
# The admin role serves the built admin web; in a fresh clone nothing has built it yet (the run command
# builds it on first use the same way), and /admin/* would rightly answer 503 ADMIN_WEB_NOT_BUILT.
if [[ ! -f services/admin-web/dist/index.html ]]; then
  log "building the admin web (first run only)"
  pnpm --dir services/admin-web run build >&2
fi

exec node scripts/fuzz/schemathesis.ts --schemathesis "$venv/bin/schemathesis" "$@"
