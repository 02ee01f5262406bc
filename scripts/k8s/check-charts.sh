#!/usr/bin/env bash
# Checks every Helm chart in charts/ (lib, vendor-bff, geo, ml-proxy, suite), offline:
#   1. the values schemas are what charts/values-schema.mjs writes;
#   2. kubeconform's schemas for Kubernetes v1.36.3 (and the KEDA / Prometheus Operator CRDs) are written by
#      scripts/k8s/schemas.ts from the tools folder's OpenAPI document;
#   3. the checks can fail: kubeconform rejects a misplaced field, helm rejects a misspelt value, and
#      the unit tests catch a few deliberate breakages of the templates (run on a copy in a temp folder);
#   4. per chart: `helm lint --strict` with the default values and with each ci/*-values.yaml,
#      `helm unittest` (tests/*_test.yaml), and `helm template` of the defaults and of each ci scenario
#      validated by `kubeconform -strict`;
#   5. the dependencies are vendored as symlinks (no packaged .tgz, no Chart.lock), so charts/suite installs
#      from a clean clone with no network.
# Exits 1 if anything failed; prints one line per step and the log of each failed step.
#
#   scripts/k8s/check-charts.sh                       tools from scripts/k8s/tools.sh (built once, cached)
#   ETA_K8S_TOOLS=<tools dir> scripts/k8s/check-charts.sh   an already built tools folder
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

KUBE_VERSION=1.36.3
RELEASE=eta
NAMESPACE=eta
CHARTS=(lib vendor-bff geo ml-proxy suite)

T="${ETA_K8S_TOOLS:-$(scripts/k8s/tools.sh)}"
helm="$T/bin/helm"
kubeconform="$T/bin/kubeconform"
export HELM_PLUGINS="$T/helm-plugins"
# Node 24 for the two generators (schemas.ts reads YAML with the workspace's `yaml` package).
# shellcheck source=../toolchain.sh
source scripts/toolchain.sh >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
schemas="$work/schemas"
# shellcheck source=../lib/steps.sh
source scripts/lib/steps.sh

# ---- schemas ---------------------------------------------------------------------------------------------

step "values schemas match charts/values-schema.mjs" node charts/values-schema.mjs --check

crds=("$T"/crds/*.yaml)
skip=()
if [[ ! -e "${crds[0]}" ]]; then
  # An older tools folder without the CRDs: no schema for these kinds, so say it instead of failing on them.
  echo "note  no CRDs in $T/crds: ServiceMonitor and ScaledObject are skipped by kubeconform"
  crds=()
  skip=(-skip ServiceMonitor,ScaledObject)
fi
step "kubeconform schemas for Kubernetes v$KUBE_VERSION" \
  node scripts/k8s/schemas.ts "$T/kubernetes-swagger.json" "$schemas" "${crds[@]}"

validate() { # file: kubeconform in strict mode against the generated schemas
  "$kubeconform" -strict -summary "${skip[@]}" \
    -schema-location "$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$1"
}

render() { # chart, then helm template flags; writes $work/out.yaml and fails on an empty render
  local chart="$1"
  shift
  "$helm" template "$RELEASE" "charts/$chart" --namespace "$NAMESPACE" --kube-version "$KUBE_VERSION" "$@" \
    >"$work/out.yaml" 2> >(quiet >&2) && grep -q '^kind:' "$work/out.yaml"
}

scenario() { # chart, then helm template flags: render and validate
  render "$@" && validate "$work/out.yaml"
}

rejects() { # pattern, chart, then helm template flags: the render must fail, saying pattern
  local pattern="$1"
  shift
  if render "$@" >"$work/rejects.log" 2>&1; then
    echo "rendered without complaint: helm template charts/$*"
    return 1
  fi
  grep -q -- "$pattern" "$work/rejects.log" || { cat "$work/rejects.log"; echo "expected: $pattern"; return 1; }
}

# ---- the checks can fail ---------------------------------------------------------------------------------

misplaced_field() { # kubeconform must refuse a rendered Deployment with a pod field put on the container
  render vendor-bff || return 1
  sed 's/^          imagePullPolicy: IfNotPresent$/&\n          nodeSelector: {}/' "$work/out.yaml" >"$work/bad.yaml"
  grep -q '^          nodeSelector: {}' "$work/bad.yaml" || { echo "the misplaced field was not inserted"; return 1; }
  if validate "$work/bad.yaml" >"$work/bad.log" 2>&1; then
    cat "$work/bad.log"
    return 1
  fi
  grep -q "nodeSelector" "$work/bad.log" || { cat "$work/bad.log"; return 1; }
}
step "kubeconform -strict rejects a misplaced field" misplaced_field
step "helm rejects a misspelt value (roles.precize)" \
  rejects "additional properties 'precize' not allowed" vendor-bff --set roles.precize.replicas=2
step "helm rejects a secret given as a plain value" \
  rejects "additional properties 'REDIS_URL' not allowed" geo --set config.REDIS_URL=redis://:password@redis:6379

mutant() { # chart, file under charts/, sed expression: the unit tests of chart must fail on the change
  rm -rf "$work/mutant" && mkdir -p "$work/mutant" && cp -R charts "$work/mutant/"
  sed -i "$3" "$work/mutant/charts/$2"
  # A mutation that does not apply would "fail" nothing: report it as a passing run instead.
  ! cmp -s "charts/$2" "$work/mutant/charts/$2" || { echo "the mutation did not apply to $2"; return 0; }
  "$helm" unittest --with-subchart=false "$work/mutant/charts/$1"
}
expect_failure "unit tests catch a role merge that skips false" \
  mutant vendor-bff lib/templates/_merge.tpl 's/{{- $_ := set $base $k $v -}}/{{- if $v }}{{ $_ := set $base $k $v }}{{ end -}}/'
expect_failure "unit tests catch a role left out of the roles the chart renders (events)" \
  mutant vendor-bff vendor-bff/templates/_helpers.tpl 's/precise rough admin events/precise rough admin/'
expect_failure "unit tests catch the events role reachable by the estimate clients" \
  mutant vendor-bff vendor-bff/values.yaml 's/eta.dev\/events-client: "true"/eta.dev\/estimate-client: "true"/'
expect_failure "unit tests catch a prescaler Role granting more than it names" \
  mutant suite suite/templates/prescale.yaml 's/^      - horizontalpodautoscalers$/      - horizontalpodautoscalers\n      - deployments/'
expect_failure "unit tests catch a ScaledObject without the slow scale-down" \
  mutant suite lib/templates/_keda.tpl 's/{{- toYaml $so.behavior | nindent 8 }}/{}/'

# ---- per chart -------------------------------------------------------------------------------------------

for chart in "${CHARTS[@]}"; do
  dir="charts/$chart"
  scenarios=("")
  for f in "$dir"/ci/*-values.yaml; do [[ -e "$f" ]] && scenarios+=("$f"); done

  if [[ "$chart" == lib ]]; then
    # A library chart renders nothing and has no values: lint only.
    step "lib: helm lint --strict" "$helm" lint --strict "$dir"
    continue
  fi

  for f in "${scenarios[@]}"; do
    label="${f:+$(basename "$f")}"
    label="${label:-default values}"
    args=()
    [[ -n "$f" ]] && args=(-f "$f")
    step "$chart: helm lint --strict ($label)" \
      "$helm" lint --strict --kube-version "$KUBE_VERSION" --namespace "$NAMESPACE" "${args[@]}" "$dir"
    step "$chart: helm template + kubeconform -strict ($label)" scenario "$chart" "${args[@]}"
  done

  if [[ -d "$dir/tests" ]]; then
    # Subcharts' own tests run with their chart, not again through the umbrella's symlinks.
    step "$chart: helm unittest" "$helm" unittest --with-subchart=false "$dir"
  fi
done

# ---- offline layout --------------------------------------------------------------------------------------

vendored() {
  local ok=0
  for chart in "${CHARTS[@]}"; do
    for dep in $(sed -n 's/^  - name: //p' "charts/$chart/Chart.yaml"); do
      link="charts/$chart/charts/$dep"
      if [[ ! -L "$link" || ! -f "$link/Chart.yaml" ]]; then
        echo "$link: expected a symlink to ../../$dep"
        ok=1
      fi
    done
  done
  stray="$(git ls-files --others --cached charts | grep -E '(\.tgz|/Chart\.lock)$' || true)"
  if [[ -n "$stray" ]]; then
    echo "packaged dependencies or lock files (helm dependency build?), remove them: $stray"
    ok=1
  fi
  return "$ok"
}
step "dependencies vendored as symlinks (installs offline)" vendored

echo
if ((${#failed[@]})); then
  echo "check-charts: ${#failed[@]} failed: ${failed[*]}"
  exit 1
fi
echo "check-charts: all passed"
