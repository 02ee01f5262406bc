#!/usr/bin/env bash
# Installs the argocd CLI of Argo CD's GitHub release, checked against the release's own checksum list, into
# $RUNNER_TEMP and puts it on the job's PATH. The version is the one whose CRDs the delivery checks validate
# against (ARGOCD_VERSION in scripts/delivery/tools.sh); keep the two in step. The CLI is downloaded, not
# built like the other tools: Argo CD's go.mod asks for a newer Go than the suite's.
set -euo pipefail
version="${ARGOCD_VERSION:-v3.6.2}"
arch="$(uname -m)"
case "$arch" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *)
    echo "install-argocd: unsupported architecture $arch" >&2
    exit 1
    ;;
esac
dir="${RUNNER_TEMP:-/tmp}/argocd-$version"
mkdir -p "$dir/bin"
cd "$dir"
base="https://github.com/argoproj/argo-cd/releases/download/$version"
curl -fsSL --retry 3 -o "argocd-linux-$arch" "$base/argocd-linux-$arch"
curl -fsSL --retry 3 -o cli_checksums.txt "$base/cli_checksums.txt"
grep " argocd-linux-$arch\$" cli_checksums.txt | sha256sum --check --strict
install -m 0755 "argocd-linux-$arch" bin/argocd
echo "$dir/bin" >>"${GITHUB_PATH:-/dev/stdout}"
bin/argocd version --client --short >&2
