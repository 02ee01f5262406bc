#!/usr/bin/env bash
# Run by CI before it saves ~/.cache/eta-suite. Each tool script keeps one folder per version key in that
# cache (k8s-tools-<key>, delivery-tools-<key>, toxiproxy-<version>, venv-<name>-<key>), so a cache restored
# from an older key (restore-keys) brings the folders of earlier versions along; saved again as they are, the
# cache would grow by a few hundred MB on every version bump. This keeps, per family (the folder name without
# its last "-<key>"), only the most recently modified folder: the one this run built, or the only one there.
#   .github/scripts/prune-tool-cache.sh [cache-dir]     # default: ~/.cache/eta-suite
set -euo pipefail
cache="${1:-${ETA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eta-suite}}"
[[ -d "$cache" ]] || exit 0

declare -A newest=() newest_mtime=()
declare -a folders=()
while IFS=$'\t' read -r mtime path; do
  name="${path##*/}"
  family="${name%-*}"
  # A name without a "-<key>" (images, podman) is not versioned: nothing to prune.
  [[ "$family" == "$name" ]] && continue
  folders+=("$path")
  if [[ -z "${newest[$family]:-}" ]] || (($(printf '%.0f' "$mtime") > $(printf '%.0f' "${newest_mtime[$family]}"))); then
    newest[$family]="$path"
    newest_mtime[$family]="$mtime"
  fi
done < <(find "$cache" -mindepth 1 -maxdepth 1 -type d -printf '%T@\t%p\n')

for path in "${folders[@]}"; do
  name="${path##*/}"
  if [[ "${newest[${name%-*}]}" != "$path" ]]; then
    echo "prune-tool-cache: removing $name (superseded by ${newest[${name%-*}]##*/})" >&2
    rm -rf "$path" "$path.lock"
  fi
done
