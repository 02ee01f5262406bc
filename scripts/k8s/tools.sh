#!/usr/bin/env bash
# Builds the Kubernetes and chart tools the chart tests use, once per version, into a cache outside the
# checkout (CI runs in a fresh clone on the same machine, so only the first run pays the build):
#   kube           tools/kube: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and etcd
#                  in one binary, chosen by argv[0] (symlinks beside it)
#   kwok           nodes and pods without a kubelet, with the stage files of its module
#   helm           chart lint, template, install
#   helm-unittest  tools/helm-unittest, installed as a helm plugin of a private HELM_PLUGINS folder
#   kubeconform    strict schema validation of rendered manifests
# Prints the tools folder on stdout (progress goes to stderr). Versions are pinned here and in tools/*/go.mod:
# the Go module proxy refuses or mis-resolves @latest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

KUBE_VERSION=v1.36.3
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.21.4
KUBECONFORM_VERSION=v0.8.0
HELM_UNITTEST_VERSION=v1.1.2
# CRDs the charts can render objects of (KEDA ScaledObject, Prometheus Operator ServiceMonitor), taken from
# the projects' Go modules: the schemas validate those objects too, and the cluster tests install them.
KEDA_VERSION=v2.21.1
PROMETHEUS_OPERATOR_VERSION=v0.85.0

# Bump when a build command below changes (flags, ldflags, what is copied): the cache key cannot see it.
RECIPE=1

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
cache="${ETA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eta-suite}"
# The key names every input of the build, so a change to a version or to tools/ builds a new folder.
key="$( { echo "$RECIPE $KUBE_VERSION $KWOK_VERSION $HELM_VERSION $KUBECONFORM_VERSION $HELM_UNITTEST_VERSION $KEDA_VERSION $PROMETHEUS_OPERATOR_VERSION"; go version;
  cat "$root"/tools/kube/{go.mod,go.sum,main.go} "$root"/tools/helm-unittest/{go.mod,go.sum}; } | sha256sum | cut -c1-16)"
dir="$cache/k8s-tools-$key"
log() { echo "k8s-tools: $*" >&2; }

build() { # name, then the command that builds it into $dir/bin
  local name="$1"; shift
  if [[ -x "$dir/bin/$name" ]]; then return; fi
  local start=$SECONDS
  log "building $name (first run only; cached in $dir)"
  "$@" >&2
  log "built $name in $((SECONDS - start)) s"
}

mkdir -p "$dir/bin"
build helm env GOBIN="$dir/bin" go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
build kubeconform env GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
build helm-unittest bash -c "cd '$root/tools/helm-unittest' && go build -trimpath -ldflags '-s -w' -o '$dir/bin/helm-unittest' github.com/helm-unittest/helm-unittest/cmd/helm-unittest"
build kube bash -c "cd '$root/tools/kube' && go build -trimpath -ldflags '-s -w \
  -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=36 -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION \
  -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=36' -o '$dir/bin/kube' ."
build kwok env GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"

for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd; do
  ln -sf kube "$dir/bin/$cmd"
done
# kwok's node and pod lifecycles ship as Stage files in its module, not in the binary: nodes turn Ready and
# keep a lease, pods are Ready once scheduled, Job pods complete, deleted pods go away.
if [[ ! -f "$dir/kwok-stages/done" ]]; then
  stage_src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  mkdir -p "$dir/kwok-stages"
  cp "$stage_src"/node/fast/node-initialize.yaml "$stage_src"/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    "$stage_src"/pod/fast/pod-{ready,complete,delete}.yaml "$dir/kwok-stages/"
  touch "$dir/kwok-stages/done"
fi
# The release's own OpenAPI document, for kubeconform's schemas (scripts/k8s/schemas.ts).
if [[ ! -f "$dir/kubernetes-swagger.json" ]]; then
  kdir="$(cd "$root/tools/kube" && go mod download -json k8s.io/kubernetes | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  cp "$kdir/api/openapi-spec/swagger.json" "$dir/kubernetes-swagger.json"
fi
# The CRDs, from the module zips (KEDA's go.mod asks for a newer Go than the machine's, so `go mod download`
# reports an error after it has fetched the zip; only the zip is needed).
crd() { # module version path-in-module
  local zip
  zip="$(cd "$root/tools/kube" && go mod download -json "$1@$2" | sed -n 's/^\t"Zip": "\(.*\)",$/\1/p')" || true
  unzip -p "$zip" "$1@$2/$3"
}
if [[ ! -f "$dir/crds/done" ]]; then
  mkdir -p "$dir/crds"
  crd github.com/kedacore/keda/v2 "$KEDA_VERSION" config/crd/bases/keda.sh_scaledobjects.yaml >"$dir/crds/keda.sh_scaledobjects.yaml"
  crd github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" \
    example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml >"$dir/crds/monitoring.coreos.com_servicemonitors.yaml"
  touch "$dir/crds/done"
fi
# A private plugin folder: the stock plugin's install hook downloads from GitHub, which is not reachable.
mkdir -p "$dir/helm-plugins/unittest"
cat >"$dir/helm-plugins/unittest/plugin.yaml" <<YAML
name: unittest
version: "${HELM_UNITTEST_VERSION#v}"
usage: unit test helm charts
description: helm-unittest $HELM_UNITTEST_VERSION, built by scripts/k8s/tools.sh
command: "$dir/bin/helm-unittest"
YAML
echo "$dir"
