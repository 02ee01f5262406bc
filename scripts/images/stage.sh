#!/usr/bin/env bash
# Stages the files of one service's image: scripts/images/stage.sh SERVICE OUT
#
# The one place that decides what goes into an image. The Dockerfile's build stages run it (on node:24-slim,
# repository at /repo) and so does scripts/images/build.ts on this machine (no Docker engine), so the two
# ways of building cannot drift apart. It writes three trees, each rooted at the image's /, that the
# Dockerfile copies as three layers, least often changed first:
#   OUT/deps/  /app/node_modules: the service's production dependencies (`pnpm deploy --prod`, from the
#              lockfile), with other platforms' native binaries removed
#   OUT/app/   /app/{package.json,src,...}: the service's code, and the workspace packages under /app/lib/@eta
#   OUT/data/  what the service loads at start: Geo's geodata (/app/data), the committed models (/models),
#              the built admin web (/app/admin-web); absent for a service without data
# Needs pnpm (the pinned version) and, for vendor-bff, the admin web's dev dependencies (installed here
# when missing, from the store, as in the Docker build).
#
# `ml` (the retrain job's image, on the Python base) is staged from ml/ instead, with Python 3.11 (PYTHON,
# default python3; the image's Python is Debian 12's 3.11, so the wheels pip picks here are the ones it loads):
#   OUT/deps/  /app/site-packages: ml/requirements.txt's wheels (from PyPI, pip's cache), less the test runner
#   OUT/app/   /app/eta_models: the ml/ code
set -euo pipefail

die() { echo "stage: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $0 SERVICE OUT"
svc="$1"
out="$(mkdir -p "$2" && cd "$2" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

if [ "$svc" = ml ]; then
  py="${PYTHON:-python3}"
  "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
    die "ml needs Python 3.11, the image's (PYTHON=...), not $("$py" -V 2>&1)"
  rm -rf "$out/deps" "$out/app" "$out/data"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # pip from a throwaway venv (Debian's python3 has none of its own); the packages go to --target.
  "$py" -m venv "$tmp/venv" >&2
  # The pinned environment is the whole closure (pip freeze), hence --no-deps; pytest and what only it
  # pulls in are for the tests, not the job.
  grep -viE '^(pytest|pluggy|iniconfig|pygments)==' ml/requirements.txt >"$tmp/requirements.txt"
  "$tmp/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --no-compile --target "$out/deps/app/site-packages" -r "$tmp/requirements.txt" >&2
  # Console scripts name this machine's paths in their shebangs; the job runs `python -m`.
  rm -rf "$out/deps/app/site-packages/bin"
  mkdir -p "$out/app/app"
  cp -a ml/eta_models "$out/app/app/eta_models"
  find "$out/deps" "$out/app" -name __pycache__ -type d -prune -exec rm -rf {} +
  chmod -R go-w "$out/deps" "$out/app"
  echo "stage: $svc staged in $out" >&2
  exit 0
fi

[ -f "services/$svc/package.json" ] || die "no services/$svc/package.json"

# Native binaries are kept for this platform only (the build stage runs on the image's platform).
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac

rm -rf "$out/deps" "$out/app" "$out/data" "$out/deploy"
mkdir -p "$out/deps/app" "$out/app/app/lib/@eta"

# 1. The service and its production dependencies, exactly as the lockfile pins them. Workspace packages
#    are injected (copied, not linked to the checkout); the lockfile itself records them as links, hence
#    the setting on the command line only.
pnpm --config.inject-workspace-packages=true --filter "$svc" --prod --prefer-offline \
  --reporter=append-only deploy "$out/deploy" >&2
deploy="$out/deploy"
nm="$deploy/node_modules"
# pnpm's own bookkeeping: timestamps and absolute paths of this machine, never read at run time.
rm -rf "$nm/.modules.yaml" "$nm/.pnpm-workspace-state"* "$nm/.pnpm/lock.yaml"

# 2. Workspace packages ship TypeScript source, and Node strips types only outside node_modules: each
#    @eta package moves to /app/lib/@eta/<name> (package.json and src only), every link to it points there,
#    and its own dependencies stay reachable through a node_modules link to the folder pnpm resolved them
#    in, renamed from the checkout's absolute path (`@eta+x@file++++work+...`) to `@eta+x@workspace`.
lib="$out/app/app/lib/@eta"
for pkgdir in "$nm"/.pnpm/@eta+*; do
  [ -d "$pkgdir" ] || continue
  base="$(basename "$pkgdir")"
  name="${base#@eta+}" && name="${name%%@*}"
  real="$pkgdir/node_modules/@eta/$name"
  [ -d "$real" ] && [ ! -L "$real" ] || die "expected the package folder $real"
  mkdir -p "$lib/$name"
  cp -a "$real/package.json" "$lib/$name/"
  [ -d "$real/src" ] && cp -a "$real/src" "$lib/$name/"
  rm -rf "$real"
  mv "$pkgdir" "$nm/.pnpm/@eta+$name@workspace"
done
for pkgdir in "$nm"/.pnpm/@eta+*@workspace; do
  [ -d "$pkgdir" ] || continue
  name="$(basename "$pkgdir")" && name="${name#@eta+}" && name="${name%@workspace}"
  ln -s "../../../node_modules/.pnpm/@eta+$name@workspace/node_modules" "$lib/$name/node_modules"
done
# Every link to an @eta package (the service's node_modules/@eta/x, and x inside another @eta package's
# dependency folder) now points at /app/lib/@eta/x, relative to where the link sits.
while IFS= read -r link; do
  target="$(readlink "$link")"
  case "$target" in */@eta/*) ;; *) continue ;; esac
  name="${target##*/@eta/}"
  [ -d "$lib/$name" ] || die "$link points at an unknown workspace package ($target)"
  rel="$(realpath -sm --relative-to="$(dirname "${link#"$deploy/"}")" "lib/@eta/$name")"
  ln -sfn "$rel" "$link"
done < <(find "$nm" -type l -path '*/@eta/*')

# 3. Only this platform's native code: onnxruntime-node ships CPU builds for six platforms in one package
#    (about 250 MB); dd-trace's native add-ons ship prebuilds/<platform>-<arch> for several more.
while IFS= read -r ort; do
  for dir in "$ort"/napi-v*/*/*; do
    [ -d "$dir" ] || continue
    [ "$dir" = "${dir%/*/*}/linux/$arch" ] || rm -rf "$dir"
  done
  find "$ort" -mindepth 2 -maxdepth 2 -type d -empty -delete
  ls "$ort"/napi-v*/linux/"$arch"/onnxruntime_binding.node >/dev/null \
    || die "onnxruntime-node has no linux/$arch binding"
done < <(find "$nm/.pnpm" -maxdepth 4 -path '*/node_modules/onnxruntime-node/bin' -type d)
while IFS= read -r dir; do
  case "$(basename "$dir")" in
    linux-"$arch" | linuxglibc-"$arch") ;;
    darwin-* | win32-* | linux-* | linuxglibc-* | linuxmusl-* | freebsd-* | android-*) rm -rf "$dir" ;;
  esac
done < <(find "$nm/.pnpm" -type d -path '*/prebuilds/*' -prune)
# Nothing at run time reads type declarations, source maps (no --enable-source-maps) or Markdown; in the
# prescaler's Kubernetes client they are half of node_modules. Licences stay. Nor the .bin shims of
# package scripts, which hold the absolute path the deploy ran in.
find "$nm" -type d -name .bin -prune -exec rm -rf {} +
find "$nm" -type f \( -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' -o -name '*.js.map' \
  -o -name '*.cjs.map' -o -name '*.mjs.map' -o -name '*.ts.map' -o \( -iname '*.md' ! -iname 'licen[cs]e*' \) \) -delete
mv "$nm" "$out/deps/app/node_modules"
rmdir --ignore-fail-on-non-empty "$lib" "$out/app/app/lib"

# 4. The service's own files: what it reads at run time, nothing else (no tests, benchmarks, dev keys).
app="$out/app/app"
keep=(src)
case "$svc" in
  vendor-bff) keep+=(migrations data) ;; # SQL migrations and the seed's dong list, read from the package
esac
for entry in "${keep[@]}"; do
  [ -e "$deploy/$entry" ] || die "services/$svc has no $entry"
  cp -a "$deploy/$entry" "$app/"
done
# The package.json as committed: deploy's copy names the folder it ran in (`file:///work/...`).
cp -a "services/$svc/package.json" "$app/"
rm -rf "$deploy"

# 5. Data loaded at start, in its own layer.
data="$out/data"
case "$svc" in
  geo)
    mkdir -p "$data/app" && cp -a services/geo/data "$data/app/data"
    ;;
  ml-proxy)
    mkdir -p "$data" && cp -a ml/models "$data/models"
    ;;
  vendor-bff)
    # The admin role serves the built admin web; its build needs the admin web's dev dependencies.
    if [ ! -x services/admin-web/node_modules/.bin/vite ]; then
      pnpm install --frozen-lockfile --prefer-offline --reporter=append-only --filter 'admin-web...' >&2
    fi
    mkdir -p "$data/app"
    pnpm --dir services/admin-web exec vite build --logLevel error --outDir "$data/app/admin-web" --emptyOutDir >&2
    # Hidden source maps are for reading stack traces, not for serving to anyone who asks.
    find "$data/app/admin-web" -name '*.map' -delete
    [ -f "$data/app/admin-web/index.html" ] || die "the admin web build has no index.html"
    ;;
esac

# Read-only to the service user: nothing writable by group or others, whoever ran this.
chmod -R go-w "$out/deps" "$out/app"
[ ! -d "$data" ] || chmod -R go-w "$data"
echo "stage: $svc staged in $out" >&2
