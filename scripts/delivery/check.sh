#!/usr/bin/env bash
# Checks delivery as code, offline (docs/delivery.md):
#   skaffold   skaffold.yaml against skaffold's published schema (deploy/schemas), every profile rendered as
#              skaffold would (scripts/delivery/skaffold.ts) and validated by kubeconform -strict
#   argocd     deploy/argocd and deploy/namespaces validated by kubeconform -strict against Argo CD's own
#              CRD schemas, and each ApplicationSet's sources, project and sync order
#              (scripts/delivery/argocd.ts)
#   workflows  .github/workflows with actionlint (and shellcheck on their run: scripts when installed)
#   terraform  `tofu fmt -check`, TFLint's terraform ruleset, and the module interfaces
#              (scripts/delivery/terraform-check.ts); provider schemas are not checked: see terraform/README.md
# Each part first proves it can fail (a broken copy must be refused). Prints one line per step and the log
# of each failed step; exits 1 if anything failed.
#
#   scripts/delivery/check.sh [skaffold|argocd|workflows|terraform ...]     default: all
# Tools from scripts/delivery/tools.sh and scripts/k8s/tools.sh (built once, cached), or the folders given
# in ETA_DELIVERY_TOOLS and ETA_K8S_TOOLS.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

KUBE_VERSION=1.36.3
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(skaffold argocd workflows terraform)

D="${ETA_DELIVERY_TOOLS:-$(scripts/delivery/tools.sh)}"
K="${ETA_K8S_TOOLS:-$(scripts/k8s/tools.sh)}"
helm="$K/bin/helm"
kubeconform="$K/bin/kubeconform"
# shellcheck source=../toolchain.sh
source scripts/toolchain.sh >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=../lib/steps.sh
source scripts/lib/steps.sh

schemas() { # kubeconform's schemas: Kubernetes, the charts' CRDs and Argo CD's, once
  [[ -f "$work/schemas/.done" ]] && return 0
  node scripts/k8s/schemas.ts "$K/kubernetes-swagger.json" "$work/schemas" "$K"/crds/*.yaml "$D"/argocd-crds/*.yaml &&
    touch "$work/schemas/.done"
}

validate() { # files: kubeconform in strict mode
  "$kubeconform" -strict -summary -schema-location "$work/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$@"
}

want() { # pattern file: the file says pattern (the failure was for the expected reason)
  grep -q -- "$1" "$2" || { cat "$2"; echo "expected: $1"; return 1; }
}

has() { local p; for p in "${parts[@]}"; do [[ "$p" == "$1" ]] && return 0; done; return 1; }

if has skaffold || has argocd; then
  step "kubeconform schemas (Kubernetes v$KUBE_VERSION, KEDA, Prometheus Operator, Argo CD CRDs)" schemas
fi

# ---- skaffold --------------------------------------------------------------------------------------------

skaffold_render() { # config file, out dir
  node scripts/delivery/skaffold.ts --config "$1" --schema deploy/schemas/skaffold-v4beta14.json \
    --helm "$helm" --out "$2" --kube-version "$KUBE_VERSION" --default-repo asia-northeast3-docker.pkg.dev/eta-staging
}

if has skaffold; then
  skaffold_misspelt() { # valuesFiles -> valueFiles must fail the schema
    sed 's/valuesFiles: \[deploy\/values\/staging.yaml\]/valueFiles: [deploy\/values\/staging.yaml]/' skaffold.yaml >"$work/bad-skaffold.yaml"
    ! cmp -s skaffold.yaml "$work/bad-skaffold.yaml" || { echo "the mutation did not apply"; return 0; }
    skaffold_render "$work/bad-skaffold.yaml" "$work/bad-render" >"$work/bad.log" 2>&1 && return 0
    want "additionalProperty\":\"valueFiles" "$work/bad.log" >&2 || return 0
    return 1
  }
  expect_failure "skaffold: the schema refuses a misspelt field (valueFiles)" skaffold_misspelt
  skaffold_unbuilt() { # the dev profile naming the prescaler, which it does not build, must fail
    sed "s/^\(              ml-proxy.image.tag: .{{.IMAGE_TAG_eta_ml_proxy}}.\)\$/\1\n              prescale.image.tag: '{{.IMAGE_TAG_eta_prescaler}}'/" \
      skaffold.yaml >"$work/bad-skaffold.yaml"
    ! cmp -s skaffold.yaml "$work/bad-skaffold.yaml" || { echo "the mutation did not apply"; return 0; }
    skaffold_render "$work/bad-skaffold.yaml" "$work/bad-render" >"$work/bad.log" 2>&1 && return 0
    want "no artifact of this profile gives IMAGE_TAG_eta_prescaler" "$work/bad.log" >&2 || return 0
    return 1
  }
  expect_failure "skaffold: a template for an image the profile does not build is refused" skaffold_unbuilt
  step "skaffold: schema, and every profile rendered as skaffold would" skaffold_render skaffold.yaml "$work/skaffold"
  for f in "$work"/skaffold/*.yaml; do
    [[ -e "$f" ]] || continue
    step "skaffold: profile $(basename "$f" .yaml) validated by kubeconform -strict" validate "$f"
  done
fi

# ---- Argo CD ---------------------------------------------------------------------------------------------

if has argocd; then
  argo_misplaced() { # a field one level too high in the ApplicationSet must be refused by the CRD schema
    sed 's/^      ignoreDifferences:$/    ignoreDifferences:/' deploy/argocd/staging.yaml >"$work/bad-appset.yaml"
    ! cmp -s deploy/argocd/staging.yaml "$work/bad-appset.yaml" || { echo "the mutation did not apply"; return 0; }
    validate "$work/bad-appset.yaml" >"$work/bad.log" 2>&1 && return 0
    return 1
  }
  expect_failure "argocd: kubeconform refuses a misplaced ApplicationSet field" argo_misplaced
  argo_unlisted() { # a project that does not allow CronJobs must be refused
    mkdir -p "$work/bad-argocd" && cp deploy/argocd/*.yaml "$work/bad-argocd/"
    sed -i '/group: batch, kind: CronJob/d' "$work/bad-argocd/project.yaml"
    ! cmp -s deploy/argocd/project.yaml "$work/bad-argocd/project.yaml" || { echo "the mutation did not apply"; return 0; }
    node scripts/delivery/argocd.ts --dir "$work/bad-argocd" --helm "$helm" >"$work/bad.log" 2>&1 && return 0
    want "batch/CronJob is not in the project's namespaceResourceWhitelist" "$work/bad.log" >&2 || return 0
    return 1
  }
  expect_failure "argocd: a kind the project does not allow is refused" argo_unlisted
  step "argocd: kubeconform -strict against Argo CD $(basename "$(dirname "$D"/argocd-crds/.)") CRDs" \
    validate deploy/argocd deploy/namespaces
  step "argocd: sources, project, sync order" node scripts/delivery/argocd.ts --helm "$helm" --kube-version "$KUBE_VERSION"
fi

# ---- workflows -------------------------------------------------------------------------------------------

if has workflows; then
  shellcheck_flag=()
  if command -v shellcheck >/dev/null; then shellcheck_flag=(-shellcheck "$(command -v shellcheck)"); else
    echo "note  no shellcheck on PATH: actionlint checks the workflows but not their run: scripts"
    shellcheck_flag=(-shellcheck=)
  fi
  workflows_broken() { # an unknown job key must be refused
    rm -rf "$work/wf" && mkdir -p "$work/wf/.github" && cp -R .github/workflows "$work/wf/.github/"
    local f
    f="$(ls "$work"/wf/.github/workflows/*.yml | head -1)"
    sed -i '0,/^    runs-on:/s//    runs_on:/' "$f"
    (cd "$work/wf" && git init -q . && "$D/bin/actionlint" "${shellcheck_flag[@]}" -pyflakes= >"$work/bad.log" 2>&1) && return 0
    want "runs_on" "$work/bad.log" >&2 || return 0
    return 1
  }
  expect_failure "workflows: actionlint refuses an unknown job key" workflows_broken
  step "workflows: actionlint" "$D/bin/actionlint" "${shellcheck_flag[@]}" -pyflakes=
  if command -v shellcheck >/dev/null && compgen -G '.github/scripts/*.sh' >/dev/null; then
    step "workflows: shellcheck .github/scripts" shellcheck .github/scripts/*.sh
  fi
fi

# ---- terraform -------------------------------------------------------------------------------------------

if has terraform; then
  tofu="$D/bin/tofu"
  tflint="$D/bin/tflint"
  tf_misformatted() {
    rm -rf "$work/tf" && cp -R terraform "$work/tf"
    local f
    f="$(find "$work/tf" -name '*.tf' | sort | head -1)"
    sed -i '0,/^\(\s*\)\([a-z_]*\) = /s//\1\2    = /' "$f"
    "$tofu" fmt -check -recursive "$work/tf"
  }
  expect_failure "terraform: tofu fmt -check refuses a misformatted file" tf_misformatted
  tf_unused() { # an unused variable must be reported by tflint
    rm -rf "$work/tf" && cp -R terraform "$work/tf"
    printf 'variable "never_used" {\n  type        = string\n  description = "unused"\n}\n' >"$work/tf/envs/staging/zz-unused.tf"
    (cd "$work/tf" && "$tflint" --recursive --config "$work/tf/.tflint.hcl" >"$work/bad.log" 2>&1) && return 0
    want never_used "$work/bad.log" >&2 || return 0
    return 1
  }
  expect_failure "terraform: tflint reports an unused variable" tf_unused
  step "terraform: tofu fmt -check" "$tofu" fmt -check -recursive -diff terraform
  step "terraform: tflint (terraform ruleset, preset all)" bash -c "cd terraform && '$tflint' --recursive --config '$root/terraform/.tflint.hcl'"
  step "terraform: module interfaces (scripts/delivery/terraform-check.ts)" node scripts/delivery/terraform-check.ts terraform
fi

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "delivery checks failed: ${failed[*]}"
  exit 1
fi
echo "delivery checks passed (${parts[*]})"
