#!/usr/bin/env bash
# Builds the suite's images into dist/images/oci without a Docker engine (docs/images.md):
#   scripts/images/build.sh [image ...]      # default: every image target of the Dockerfile
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh
exec node scripts/images/build.ts "$@"
