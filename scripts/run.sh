#!/usr/bin/env bash
# The suite's one run command (README): installs the pinned toolchain and packages if needed, then starts
# every service on embedded defaults (no Postgres, Redis or Kafka needed). Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh
pnpm install --frozen-lockfile --reporter=silent
exec node scripts/dev.ts "$@"
