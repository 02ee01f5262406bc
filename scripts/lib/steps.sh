# shellcheck shell=bash
# The check scripts' step runner (scripts/k8s/check-charts.sh, scripts/delivery/check.sh): one line per
# step, the log of a failed one, and the names of the failures in `failed`. Source it after setting `work`
# (a temporary folder for the step logs).
: "${work:?set work before sourcing scripts/lib/steps.sh}"
failed=()

# Helm says so on stderr every time it follows one of the vendored chart symlinks: expected, not news.
quiet() { grep -v 'found symbolic link in path' || true; }

step() { # name, then the command; its output is shown only when it fails
  local name="$1"
  shift
  if "$@" >"$work/step.log" 2>&1; then
    echo "ok    $name"
  else
    echo "FAIL  $name"
    quiet <"$work/step.log" | sed 's/^/      /'
    failed+=("$name")
  fi
}

expect_failure() { # name, then a command that must fail
  local name="$1"
  shift
  if "$@" >"$work/step.log" 2>&1; then
    echo "FAIL  $name (it passed: the check would not catch this)"
    failed+=("$name")
  else
    echo "ok    $name"
  fi
}
