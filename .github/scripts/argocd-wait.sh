#!/usr/bin/env bash
# Waits until every Argo CD Application of an environment runs a commit: each app of the ApplicationSet
# (deploy/argocd/<env>.yaml: one per cluster, labelled eta.dev/environment=<env>) has compared main at that
# commit or a later one, and is then Synced, Healthy and without a running operation.
#   .github/scripts/argocd-wait.sh <label selector> <commit> <timeout seconds>
# `argocd app wait` alone would not do: right after the push it finds the apps Synced and Healthy at the
# previous commit. So the apps are refreshed first (Argo CD polls git only every few minutes) and their
# compared revision is checked. Needs the argocd CLI, jq, ARGOCD_SERVER and ARGOCD_AUTH_TOKEN (ARGOCD_OPTS
# for flags such as --grpc-web), and a clone of the repository for the ancestry check.
set -euo pipefail
selector="$1"
commit="$2"
timeout="$3"
branch="${GITOPS_BRANCH:-main}"
deadline=$((SECONDS + timeout))
log() { echo "argocd-wait: $*" >&2; }

mapfile -t apps < <(argocd app list -l "$selector" -o name)
((${#apps[@]} > 0)) || {
  log "no Argo CD application matches $selector (is a cluster registered with that label?)"
  exit 1
}
log "applications: ${apps[*]}; waiting for ${commit:0:12} or later on $branch"

# True when the app compared main at $commit or at a commit after it (a later push may have overtaken ours).
at_or_after() {
  local rev="$1"
  [[ "$rev" == "$commit" ]] && return 0
  git cat-file -e "$rev^{commit}" 2>/dev/null || git fetch --quiet origin "$branch" || return 1
  git merge-base --is-ancestor "$commit" "$rev" 2>/dev/null
}

pending=("${apps[@]}")
last_refresh=-60
while ((${#pending[@]} > 0)); do
  if ((SECONDS >= deadline)); then
    log "timed out: ${pending[*]} never compared ${commit:0:12}"
    exit 1
  fi
  if ((SECONDS - last_refresh >= 60)); then
    for app in "${pending[@]}"; do
      argocd app get "$app" --refresh -o json >/dev/null || log "refresh of $app failed; trying again"
    done
    last_refresh=$SECONDS
  fi
  still=()
  for app in "${pending[@]}"; do
    # One revision per source: .revision for a single-source app, .revisions for a multi-source one.
    mapfile -t revs < <(argocd app get "$app" -o json |
      jq -r '[.status.sync.revision // empty] + (.status.sync.revisions // []) | map(select(. != "")) | .[]')
    ok=$((${#revs[@]} > 0))
    for rev in "${revs[@]}"; do at_or_after "$rev" || ok=0; done
    if ((ok)); then log "$app compared ${revs[0]:0:12}"; else still+=("$app"); fi
  done
  pending=("${still[@]}")
  ((${#pending[@]} == 0)) || sleep 10
done

remaining=$((deadline - SECONDS))
((remaining > 30)) || remaining=30
if ! argocd app wait -l "$selector" --sync --health --operation --timeout "$remaining"; then
  log "not Synced and Healthy within ${timeout} s. If this is production, Argo CD holds automated syncs in"
  log "the project's deny window (deploy/argocd/project.yaml, Seoul's dinner peak): the commit is in git and"
  log "syncs when the window ends. Otherwise look at the app in Argo CD (failed hook, degraded pods)."
  exit 1
fi
for app in "${apps[@]}"; do
  argocd app get "$app" -o json |
    jq -r '"\(.metadata.name): \(.status.sync.status) \(.status.health.status) at \((.status.sync.revision // .status.sync.revisions[0])[0:12])"' >&2
done
