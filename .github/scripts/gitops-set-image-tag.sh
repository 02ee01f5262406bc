#!/usr/bin/env bash
# The release workflow's deploy step, the GitOps way: Argo CD (deploy/argocd/<env>.yaml) renders charts/suite
# with deploy/values/<env>.yaml from main, so a release is one commit that sets `global.imageTag` (the tag of
# every image of the suite, charts/lib "lib.imageVersion") in that file. This script makes that commit on top
# of the newest main and pushes it, starting again from the new main when another push got there first.
#   .github/scripts/gitops-set-image-tag.sh deploy/values/staging.yaml <git sha>
# Prints the commit that carries the tag on stdout (the one Argo CD must reach); progress goes to stderr.
# Refuses to move an environment to a commit that does not descend from the one it runs: a late approval of
# an old run must not roll production back (roll back by reverting the values commit instead).
# Needs mikefarah's yq v4 (on GitHub's Ubuntu runners) and a clone with main's history (fetch-depth: 0).
set -euo pipefail
file="$1"
tag="$2"
branch="${GITOPS_BRANCH:-main}"
env_name="$(basename "$file" .yaml)"
log() { echo "gitops: $*" >&2; }

yq --version 2>/dev/null | grep -q 'mikefarah' || {
  log "needs mikefarah's yq v4 (https://github.com/mikefarah/yq) on PATH"
  exit 1
}
[[ "$tag" =~ ^[0-9a-f]{40}$ ]] || {
  log "the tag must be a full git SHA, got '$tag'"
  exit 1
}
git config user.name 'github-actions[bot]'
git config user.email '41898282+github-actions[bot]@users.noreply.github.com'

for attempt in 1 2 3 4 5; do
  git fetch --quiet origin "$branch"
  git checkout --quiet --force -B "$branch" FETCH_HEAD
  [[ -f "$file" ]] || {
    log "$file does not exist on $branch"
    exit 1
  }
  current="$(yq '.global.imageTag // ""' "$file")"
  if [[ "$current" == "$tag" ]]; then
    log "$env_name already runs $tag"
    git rev-parse HEAD
    exit 0
  fi
  if [[ -n "$current" ]]; then
    if ! git cat-file -e "$current^{commit}" 2>/dev/null; then
      log "warning: $env_name's current tag '$current' is no commit of this repository; replacing it"
    elif ! git merge-base --is-ancestor "$current" "$tag"; then
      log "$env_name runs $current, which $tag does not descend from: refusing to move it backwards or sideways"
      exit 1
    fi
  fi
  TAG="$tag" yq -i '.global.imageTag = strenv(TAG) | .global.imageTag style="double"' "$file"
  git add "$file"
  git commit --quiet -m "deploy($env_name): images ${tag:0:12}" \
    -m "Sets global.imageTag in $file to $tag${GITHUB_RUN_ID:+ (release run ${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/$GITHUB_RUN_ID)}."
  if git push --quiet origin "HEAD:refs/heads/$branch"; then
    log "$env_name: pushed $(git rev-parse --short HEAD) to $branch"
    git rev-parse HEAD
    exit 0
  fi
  log "push refused (attempt $attempt: $branch moved?); starting again from the new $branch"
  sleep $((attempt * 5))
done
log "could not push to $branch after 5 attempts"
exit 1
