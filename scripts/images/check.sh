#!/usr/bin/env bash
# Builds every image of the suite without a Docker engine and runs each one as a container (docs/images.md):
# exits non-zero when an image cannot be built, does not become ready, runs as root, can write its root file
# system or does not drain on SIGTERM. Prints each image's size and cold start. Needs root (podman), and
# installs podman and runc from Debian when they are missing.
#   scripts/images/check.sh [--keep]     # --keep: leave the images of earlier builds in the private store
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

log() { echo "images: $*" >&2; }
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { log "need podman and runc (apt-get install podman runc), or root to install them"; exit 1; }
  log "installing podman and runc from Debian (first run only)"
  apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends podman runc >&2 </dev/null; then
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >&2 </dev/null
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends podman runc >&2 </dev/null
  fi
fi

# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh
start=$SECONDS
node scripts/images/build.ts
node scripts/images/check.ts "$@"
log "build and check took $((SECONDS - start)) s"
