#!/usr/bin/env bash
# Installs Debian's Chromium for admin-web's browser tests (playwright-core drives it; Playwright's own
# browser downloads are not reachable from here, only package registries are). Latin and Hangul fonts so
# screenshots show store names rather than boxes. Idempotent: does nothing
# when /usr/bin/chromium already runs.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ] && "$CHROMIUM" --headless --no-sandbox --version >/dev/null 2>&1; then
  echo "chromium present: $("$CHROMIUM" --version)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# The lock timeout lets this wait for another apt run on a shared machine instead of failing at once.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium fonts-liberation fonts-nanum
echo "chromium installed: $("$CHROMIUM" --version)"
