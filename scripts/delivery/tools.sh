#!/usr/bin/env bash
# Builds the delivery-as-code checkers once per version into a cache outside the checkout (like
# scripts/k8s/tools.sh; CI runs in a fresh clone on the same machine, so only the first run pays):
#   tofu         OpenTofu: `tofu fmt -check` of terraform/. HashiCorp's terraform cannot be built from the
#                Go module proxy (its go.mod replaces nested modules, internal/backend/remote-state/*, that
#                the module zip leaves out); OpenTofu, its MPL fork, has the same language and formatter.
#   tflint       TFLint with its bundled terraform ruleset (no plugin download)
#   actionlint   .github/workflows
#   argocd-crds  Argo CD's CRDs (Application, ApplicationSet, AppProject) from its Go module zip, for
#                kubeconform's schemas (scripts/k8s/schemas.ts)
# Prints the tools folder on stdout (progress on stderr). Versions are pinned here: the Go module proxy
# refuses or mis-resolves @latest.
set -euo pipefail

OPENTOFU_VERSION=v1.12.6
TFLINT_VERSION=v0.64.0
ACTIONLINT_VERSION=v1.7.12
ARGOCD_VERSION=v3.6.2
# Bump when a build command below changes: the cache key cannot see it.
RECIPE=1

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
cache="${ETA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eta-suite}"
key="$(echo "$RECIPE $OPENTOFU_VERSION $TFLINT_VERSION $ACTIONLINT_VERSION $ARGOCD_VERSION $(go version)" | sha256sum | cut -c1-16)"
dir="$cache/delivery-tools-$key"
log() { echo "delivery-tools: $*" >&2; }

build() { # name, then the command that builds it into $dir/bin
  local name="$1"
  shift
  if [[ -x "$dir/bin/$name" ]]; then return; fi
  local start=$SECONDS
  log "building $name (first run only; cached in $dir)"
  "$@" >&2
  log "built $name in $((SECONDS - start)) s"
}

moddir() { # module version: the unpacked module in the module cache
  (cd "$dir" && go mod download -json "$1@$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
}

tofu() {
  # OpenTofu's go.mod replaces hcl with its fork, which `go install module@version` refuses: build it as
  # the main module, from a writable copy of the module.
  local src
  src="$(moddir github.com/opentofu/opentofu "$OPENTOFU_VERSION")"
  rm -rf "$dir/src-tofu" && cp -R "$src" "$dir/src-tofu" && chmod -R u+w "$dir/src-tofu"
  (cd "$dir/src-tofu" && go build -trimpath -ldflags "-s -w" -o "$dir/bin/tofu" ./cmd/tofu)
  rm -rf "$dir/src-tofu"
}

mkdir -p "$dir/bin"
# shellcheck, which actionlint runs on every `run:` script, from Debian (not a Go module).
if ! command -v shellcheck >/dev/null; then
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing shellcheck from Debian"
    apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
    "${apt[@]}" install --no-install-recommends shellcheck >&2 ||
      { "${apt[@]}" update >&2 && "${apt[@]}" install --no-install-recommends shellcheck >&2; } ||
      log "could not install shellcheck: the workflows' run: scripts are not shellchecked"
  else
    log "no shellcheck and no root to install it: the workflows' run: scripts are not shellchecked"
  fi
fi
build actionlint env GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" \
  "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
build tflint env GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" \
  "github.com/terraform-linters/tflint@$TFLINT_VERSION"
build tofu tofu

if [[ ! -f "$dir/argocd-crds/done" ]]; then
  # Argo CD's go.mod asks for a newer Go than the machine's, so `go mod download` reports an error after it
  # has fetched the zip; only the zip is needed.
  zip="$(cd "$dir" && go mod download -json "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" |
    sed -n 's/^\t"Zip": "\(.*\)",$/\1/p')" || true
  [[ -f "$zip" ]] || { log "no module zip for argo-cd $ARGOCD_VERSION"; exit 1; }
  mkdir -p "$dir/argocd-crds"
  for crd in application applicationset appproject; do
    unzip -p "$zip" "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION/manifests/crds/$crd-crd.yaml" >"$dir/argocd-crds/$crd-crd.yaml"
  done
  touch "$dir/argocd-crds/done"
fi
echo "$dir"
