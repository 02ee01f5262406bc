#!/usr/bin/env bash
# Builds Toxiproxy (the network-fault proxy the fault tests and the faults soak put between every hop)
# from the Go module proxy, once per version, into a cache outside the checkout (CI runs in a fresh clone
# on the same machine, so only the first run pays the ~1.5 min build):
#   toxiproxy-server   the proxy and its HTTP API (go install names it `server`)
#   toxiproxy-cli      its command-line client (`cli`), for looking at a stand by hand
# Prints the folder (the binaries are in it) on stdout; progress goes to stderr. The version is pinned:
# the module proxy resolves @latest to the old v2.5.0. Several test files may call this at once: the
# build runs under a lock and the others wait for it.
set -euo pipefail

TOXIPROXY_VERSION=v2.12.0

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
cache="${ETA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eta-suite}"
dir="$cache/toxiproxy-$TOXIPROXY_VERSION"
log() { echo "toxiproxy: $*" >&2; }

ready() { [[ -x "$dir/toxiproxy-server" && -x "$dir/toxiproxy-cli" ]]; }

if ! ready; then
  mkdir -p "$cache"
  exec 9>"$dir.lock"
  flock 9
  if ! ready; then
    command -v go >/dev/null || { log "Go is needed to build Toxiproxy $TOXIPROXY_VERSION (go install)"; exit 1; }
    start=$SECONDS
    log "building Toxiproxy $TOXIPROXY_VERSION (first run only; cached in $dir)"
    tmp="$(mktemp -d "$cache/toxiproxy-build.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    GOBIN="$tmp" go install -trimpath -ldflags "-s -w" \
      "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" \
      "github.com/Shopify/toxiproxy/v2/cmd/cli@$TOXIPROXY_VERSION" >&2
    mkdir -p "$dir"
    mv "$tmp/cli" "$dir/toxiproxy-cli"
    # The server last: its presence is what `ready` and other callers look for.
    mv "$tmp/server" "$dir/toxiproxy-server"
    log "built in $((SECONDS - start)) s"
  fi
fi
echo "$dir"
