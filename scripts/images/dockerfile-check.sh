#!/usr/bin/env bash
# Builds the Dockerfile itself with buildah (no Docker engine, no registry) and compares each image with the
# one scripts/images/build.ts assembles: same configuration, same files under /app and /models (paths,
# sizes, modes, link targets; not mtimes). Slow (minutes: pnpm fetches the whole lockfile into buildah's
# cache on the first run), so it is not part of check.sh; run it after changing the Dockerfile or stage.sh:
#   scripts/images/dockerfile-check.sh [image ...]
#
# The base images cannot be pulled here, so stand-ins take their place, cached in ~/.cache/eta-suite/images:
#   BUILD_IMAGE    node:24-slim: Debian 12 minbase (debootstrap from the Debian mirror), the toolchain's
#                  Node in /usr/local/bin and npm from the npm registry, as node:24-slim lays them out
#   RUNTIME_IMAGE  the distroless stand-in build.ts makes (scripts/images/base.ts), as an image
#   PYTHON_BUILD_IMAGE    python:3.11-slim-bookworm: Debian 12 minbase with Debian's python3.11 and its venv
#   PYTHON_RUNTIME_IMAGE  build.ts's distroless Python stand-in, as an image (the ml image)
# Needs root; installs buildah and debootstrap from Debian when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$PWD"
log() { echo "dockerfile-check: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (buildah, debootstrap)"

missing=()
for tool in buildah debootstrap podman runc; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q install --no-install-recommends \
    "${missing[@]}" >&2 </dev/null
fi

# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh
cache="${ETA_IMAGES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eta-suite/images}"
store=(--root "${ETA_PODMAN_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/eta-suite/podman/storage}" --runroot /run/eta-suite-podman)
podman=(podman "${store[@]}" --runtime runc --cgroup-manager cgroupfs --events-backend file)
buildah=(buildah "${store[@]}")
mkdir -p "$cache"

# The daemonless images first: the runtime stand-in is their base layer.
node scripts/images/build.ts "$@" >&2
summary=dist/images/images.json
images=("$@")
[ ${#images[@]} -gt 0 ] || mapfile -t images < <(node -e 'for (const i of require(process.argv[1]).images) console.log(i.name)' "$root/$summary")

# Stand-ins of earlier keys go first.
drop_old() {
  "${podman[@]}" images --noheading --format '{{.Repository}}:{{.Tag}}' --filter "reference=${1%:*}" |
    while read -r old; do [ "$old" = "$1" ] || "${podman[@]}" rmi "$old" >/dev/null || true; done
}
# runtime_standin REF DIGEST ENTRYPOINT: a base layer build.ts made, as an image with distroless's config.
runtime_standin() {
  drop_old "$1"
  "${podman[@]}" image exists "$1" && return 0
  "${podman[@]}" import --quiet \
    --change 'USER 65532' --change 'WORKDIR /home/nonroot' --change "ENTRYPOINT $3" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    "dist/images/oci/blobs/sha256/${2#sha256:}" "$1" >/dev/null
}
# A machine behind a TLS-inspecting proxy trusts its CA through NODE_EXTRA_CA_CERTS; the build stand-ins
# do too (under the variable their tool reads).
extra_ca="${NODE_EXTRA_CA_CERTS:-}"
[ -z "$extra_ca" ] || [ -f "$extra_ca" ] || extra_ca=""
# build_standin REF LABEL CMD CA_ENV PACKAGES [ADD]: Debian 12 minbase (debootstrap) with PACKAGES, then
# `ADD <rootfs>`, as an image.
build_standin() {
  local ref="$1" label="$2" cmd="$3" ca_env="$4" packages="$5" add="${6:-}" work ca_change=()
  drop_old "$ref"
  "${podman[@]}" image exists "$ref" && return 0
  log "making the $label stand-in (debootstrap, first run only)"
  work="$cache/tmp-build-standin"
  rm -rf "$work" && mkdir -p "$work"
  debootstrap --variant=minbase ${packages:+"--include=$packages"} bookworm "$work/rootfs" \
    http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $work/debootstrap.log"
  [ -z "$add" ] || "$add" "$work/rootfs"
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  if [ -n "$extra_ca" ]; then
    install -m 0644 "$extra_ca" "$work/rootfs/usr/local/share/extra-ca.crt"
    ca_change=(--change "ENV $ca_env=/usr/local/share/extra-ca.crt")
  fi
  tar --numeric-owner -C "$work/rootfs" -cf "$work/rootfs.tar" .
  "${podman[@]}" import --quiet --change "CMD [\"$cmd\"]" "${ca_change[@]}" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$work/rootfs.tar" "$ref" >/dev/null
  rm -rf "$work"
}
# The toolchain's Node and npm where node:24-slim has them.
add_node() {
  install -m 0755 "$(command -v node)" "$1/usr/local/bin/node"
  npm install --global --silent --no-fund --no-audit --prefix "$1/usr/local" npm@11 >&2
}
ca_key() { [ -z "$extra_ca" ] || cat "$extra_ca"; }

# RUNTIME_IMAGE stand-in: the base layer with distroless's config. BUILD_IMAGE stand-in: Debian 12 minbase,
# Node and npm.
base_digest="$(node -p 'require(process.argv[1]).base.digest' "$root/$summary")"
runtime_ref="localhost/eta-suite/runtime-standin:${base_digest:7:12}"
runtime_standin "$runtime_ref" "$base_digest" '["/nodejs/bin/node"]'
build_ref="localhost/eta-suite/node-24-slim-standin:$( { echo "bookworm-minbase $(node --version) npm@11"; ca_key; } | sha256sum | cut -c1-12)"
build_standin "$build_ref" node:24-slim node NODE_EXTRA_CA_CERTS "" add_node

# The ml image's two, only when it is checked: build.ts's Python base; Debian 12 minbase with Debian's
# python3 (3.11) and its venv.
python_args=()
if printf '%s\n' "${images[@]}" | grep -qx ml; then
  py_digest="$(node -p 'require(process.argv[1]).bases["python-base"].digest' "$root/$summary")"
  py_runtime_ref="localhost/eta-suite/python-runtime-standin:${py_digest:7:12}"
  runtime_standin "$py_runtime_ref" "$py_digest" '["/usr/bin/python3.11"]'
  py_build_ref="localhost/eta-suite/python-3.11-slim-standin:$( { echo "bookworm-minbase python3.11 venv"; ca_key; } | sha256sum | cut -c1-12)"
  build_standin "$py_build_ref" python:3.11-slim-bookworm python3 PIP_CERT python3,python3-venv,ca-certificates
  python_args=(--build-arg "PYTHON_BUILD_IMAGE=$py_build_ref" --build-arg "PYTHON_RUNTIME_IMAGE=$py_runtime_ref")
fi

nofile="$(ulimit -Hn)"
[ "$nofile" -le 65536 ] || nofile=65536
# Lists a tree as `path type [size] mode [link target]`, sorted: what must be equal between the two builds.
tree() {
  (cd "$1" && find . \( -type f -printf '%p f %s %m\n' \) -o \( -type l -printf '%p l %l\n' \) -o -printf '%p %y %m\n' | sort)
}
status=0
stamp() { cat "dist/images/stage/$1/.inputs" 2>/dev/null || echo none; }
for image in "${images[@]}"; do
  ref="localhost/eta-suite/dockerfile-$image:check"
  # Both builds must see the same sources: when a file the image is made from changes while buildah
  # builds (others edit this checkout too), build.ts stages again afterwards and the pair is built again.
  built=""
  for attempt in 1 2 3; do
    node scripts/images/build.ts "$image" >/dev/null 2>&1 || die "$image: build.ts failed"
    before="$(stamp "$image")"
    start=$SECONDS
    log "$image: buildah bud --target $image"
    "${buildah[@]}" bud --quiet --layers --network host --runtime runc \
      --ulimit "nofile=$nofile:$nofile" --ulimit nproc=16384:16384 \
      --build-arg "BUILD_IMAGE=$build_ref" --build-arg "RUNTIME_IMAGE=$runtime_ref" "${python_args[@]}" \
      --target "$image" --tag "$ref" -f Dockerfile . >/dev/null || { built=failed; break; }
    log "$image: built from the Dockerfile in $((SECONDS - start)) s"
    node scripts/images/build.ts "$image" >/dev/null 2>&1 || die "$image: build.ts failed"
    if [ "$(stamp "$image")" = "$before" ]; then built=ok; break; fi
    log "$image: its sources changed during the build (attempt $attempt); building both again"
  done
  case "$built" in
    ok) ;;
    failed) log "$image: the Dockerfile does not build"; status=1; continue ;;
    *) log "$image: inconclusive, its sources kept changing during the builds"; status=1; continue ;;
  esac

  # The configuration both builds give the image.
  config() {
    "${podman[@]}" image inspect --format \
      '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{.Config.WorkingDir}}|{{json .Config.ExposedPorts}}|{{.Config.StopSignal}}|{{index .Config.Labels "org.opencontainers.image.title"}}' "$1"
    # Env as a set: buildah moves a redefined variable to the end, Docker keeps its place.
    "${podman[@]}" image inspect --format '{{range .Config.Env}}{{.}}{{"\n"}}{{end}}' "$1" | sort | tr '\n' ' '
  }
  daemonless="localhost/eta-suite/$image:$(node -p "require('$root/$summary').images.find(i => i.name === '$image').config.slice(7, 19)")"
  "${podman[@]}" image exists "$daemonless" ||
    "${podman[@]}" pull --quiet "oci:$root/dist/images/oci:$image" >/dev/null
  "${podman[@]}" image exists "$daemonless" ||
    "${podman[@]}" tag "$(node -p "require('$root/$summary').images.find(i => i.name === '$image').config.slice(7)")" "$daemonless"
  a="$(config "$ref")" b="$(config "$daemonless")"
  if [ "$a" != "$b" ]; then
    log "$image: configurations differ"; printf '  Dockerfile: %s\n  build.ts:   %s\n' "$a" "$b" >&2; status=1
  fi

  # The files both builds put under /app and /models.
  mnt_a="$("${podman[@]}" image mount "$ref")" mnt_b="$("${podman[@]}" image mount "$daemonless")"
  differ=0
  for dir in app models; do
    [ -d "$mnt_a/$dir" ] || [ -d "$mnt_b/$dir" ] || continue
    if ! diff <(tree "$mnt_a/$dir") <(tree "$mnt_b/$dir") >"$cache/tmp-tree-$image.diff"; then
      differ=1
      log "$image: /$dir differs (< Dockerfile, > build.ts):"; head -40 "$cache/tmp-tree-$image.diff" >&2
    fi
  done
  rm -f "$cache/tmp-tree-$image.diff"
  "${podman[@]}" image unmount "$ref" "$daemonless" >/dev/null
  if [ "$differ" -eq 0 ] && [ "$a" = "$b" ]; then
    log "$image: the Dockerfile's image and build.ts's have the same configuration and files"
  else
    status=1
  fi
done

# skaffold's development image (the Dockerfile's dev stage, skaffold.yaml's dev profile): it builds, runs
# Geo under `node --watch` as uid 65532, and restarts it when a source file changes in place (what
# skaffold's file sync does with `kubectl exec ... tar`, which needs the image's tar).
if [ "${ETA_DEV_IMAGE_CHECK:-1}" = 1 ]; then
  ref="localhost/eta-suite/dockerfile-dev-geo:check"
  log "dev: buildah bud --target dev --build-arg SERVICE=geo"
  start=$SECONDS
  if "${buildah[@]}" bud --quiet --layers --network host --runtime runc \
    --ulimit "nofile=$nofile:$nofile" --ulimit nproc=16384:16384 \
    --build-arg "BUILD_IMAGE=$build_ref" --build-arg "RUNTIME_IMAGE=$runtime_ref" --build-arg SERVICE=geo \
    --target dev --tag "$ref" -f Dockerfile . >/dev/null; then
    log "dev: built in $((SECONDS - start)) s"
    port=18381
    name="eta-dev-geo-check-$$"
    "${podman[@]}" run -d --rm --name "$name" --network host --ulimit "nofile=$nofile:$nofile" --ulimit nproc=16384:16384 \
      -e PORT=$port -e HOST=127.0.0.1 "$ref" >/dev/null
    ready() { for _ in $(seq 1 120); do curl -fsS "http://127.0.0.1:$port/livez" >/dev/null 2>&1 && return 0; sleep 0.5; done; return 1; }
    if ready && [ "$("${podman[@]}" exec "$name" id -u)" = 65532 ] &&
      "${podman[@]}" exec "$name" sh -c 'command -v tar >/dev/null'; then
      before="$("${podman[@]}" logs "$name" 2>&1 | grep -ci 'server listening at' || true)"
      # An edit as skaffold's sync makes it: tar into /repo inside the container.
      printf '// touched by dockerfile-check\n' | "${podman[@]}" exec -i "$name" sh -c 'cat >> /repo/services/geo/src/main.ts'
      restarted=0
      for _ in $(seq 1 120); do
        after="$("${podman[@]}" logs "$name" 2>&1 | grep -ci 'server listening at' || true)"
        if [ "$after" -gt "$before" ] && curl -fsS "http://127.0.0.1:$port/livez" >/dev/null 2>&1; then restarted=1; break; fi
        sleep 0.5
      done
      if [ "$restarted" = 1 ]; then log "dev: Geo ready as uid 65532, tar present, restarted by node --watch after a synced edit"; else
        log "dev: Geo did not restart after an edit"; "${podman[@]}" logs "$name" 2>&1 | tail -20 >&2; status=1
      fi
    else
      log "dev: Geo not ready, not uid 65532, or no tar"; "${podman[@]}" logs "$name" 2>&1 | tail -20 >&2; status=1
    fi
    "${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true
  else
    log "dev: the dev stage does not build"; status=1
  fi
fi
exit "$status"
