#!/usr/bin/env bash
# A BigQuery-compatible server on 127.0.0.1 for the tests: bqemulator (PyPI, DuckDB + SQLGlot; pinned in
# requirements.txt beside this file), which speaks BigQuery's REST API (datasets, tables, insertAll,
# queries). scripts/backing-services.sh calls it for up, down, status and env, so the test command exports
# its address with the other backing servers'.
#
#   scripts/bigquery/emulator.sh up       build the venv (first run only), start the server unless one
#                                         answers already, print the export lines
#   scripts/bigquery/emulator.sh down     stop the server this script started
#   scripts/bigquery/emulator.sh status   say whether it answers and who owns it
#   scripts/bigquery/emulator.sh env      print the export lines without starting anything
#   scripts/bigquery/emulator.sh lock     re-pin requirements.txt from requirements.in
#
# `up` and `env` print only `export ...` lines on stdout (BIGQUERY_EMULATOR_HOST, which the Node client
# wants ending in /bigquery/v2, and BIGQUERY_PROJECT); progress goes to stderr.
#
# The venv is built once per requirements.txt and Python into ~/.cache/eta-suite (scripts/pinned-venv.sh,
# as the other pinned Python tools are; about a minute from PyPI's wheels). The server is ephemeral
# (DuckDB in memory): a restart forgets every dataset, which the tests create for themselves. It starts
# through launcher.py, which skips DuckDB's spatial extension (bqemulator downloads it at start, which
# fails offline); the Avro extension, another download, is turned off by its setting.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
log() { printf 'bigquery-emulator: %s\n' "$*" >&2; }
die() {
  printf 'bigquery-emulator: ERROR: %s\n' "$*" >&2
  exit 1
}

BACKING_DIR="${ETA_BACKING_DIR:-$root/.local/backing}"
HOME_DIR="$BACKING_DIR/bigquery"
PIDFILE="$HOME_DIR/emulator.pid"
LOGF="$HOME_DIR/emulator.log"
PORT="${BIGQUERY_EMULATOR_PORT:-9050}"
# The project the tests use; the emulator accepts any, this one is also its default for requests without.
PROJECT="${ETA_BIGQUERY_PROJECT:-eta-test}"
WAIT_SECONDS="${ETA_BACKING_WAIT_SECONDS:-90}"
ENDPOINT="http://127.0.0.1:$PORT"

[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] \
  || die "BIGQUERY_EMULATOR_PORT=$PORT is not a port number (1-65535)"
[[ "$PROJECT" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || die "ETA_BIGQUERY_PROJECT=$PROJECT is not a project id"

print_env() {
  printf 'export BIGQUERY_EMULATOR_HOST=%q\n' "$ENDPOINT/bigquery/v2"
  printf 'export BIGQUERY_PROJECT=%q\n' "$PROJECT"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A BigQuery REST answer, not just an open port: the dataset list of the test project.
answers() {
  local body
  body="$(curl -sf --max-time 5 "$ENDPOINT/bigquery/v2/projects/$PROJECT/datasets" 2>/dev/null || true)"
  [[ "$body" == *'bigquery#datasetList'* ]]
}

pid_alive() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- 'launcher.py'
}

tail_log() {
  if [ -f "$LOGF" ]; then
    printf -- '--- last lines of %s ---\n' "$LOGF" >&2
    tail -n 40 "$LOGF" >&2 || true
    printf -- '---\n' >&2
  fi
}

up() {
  command -v curl >/dev/null || die "curl is needed to check the emulator"
  if port_open "$PORT"; then
    if answers; then
      log "reusing the server on $ENDPOINT"
      return 0
    fi
    pid_alive || die "127.0.0.1:$PORT is taken by something that is not a BigQuery emulator. Stop it or" \
      "pick another port: BIGQUERY_EMULATOR_PORT=19050 $0 up"
    log "our server is starting; waiting"
  else
    # shellcheck source=scripts/pinned-venv.sh
    source "$root/scripts/pinned-venv.sh"
    local venv
    venv="$(pinned_venv "$here" bqemulator-1.4.0)"
    mkdir -p "$HOME_DIR"
    log "starting bqemulator on $ENDPOINT (log $LOGF)"
    # setsid detaches it from the caller's session, so it outlives the shell that ran `up`; `down` stops
    # it by pid. gRPC (the Storage Write API, unused here) on a free port so it never collides. fd 9 (the
    # callers' lock) stays closed in the server.
    (
      cd "$HOME_DIR"
      PYTHONDONTWRITEBYTECODE=1 BQEMU_LOG_LEVEL=warning BQEMU_ENABLE_FORMAT_EXTENSIONS=false setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ \
        "$PIDFILE" "$venv/bin/python" "$here/launcher.py" start --rest-host 127.0.0.1 --rest-port "$PORT" \
        --grpc-host 127.0.0.1 --grpc-port 0 --ephemeral --project "$PROJECT" </dev/null >"$LOGF" 2>&1 9>&- &
    )
  fi
  local i
  for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
    if answers; then
      log "ready"
      return 0
    fi
    if [ "$i" -gt 8 ] && ! pid_alive; then
      tail_log
      die "the emulator exited during start"
    fi
    sleep 0.25
  done
  tail_log
  die "the emulator did not answer on $ENDPOINT within ${WAIT_SECONDS}s"
}

down() {
  if ! pid_alive; then
    log "not started by this script"
    rm -f "$PIDFILE"
    return 0
  fi
  local pid i
  pid="$(cat "$PIDFILE")"
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$PIDFILE"
}

status() {
  local owner="external"
  pid_alive && owner="started by this script"
  if answers; then
    echo "bigquery emulator: up ($owner) $ENDPOINT project $PROJECT"
  elif port_open "$PORT"; then
    echo "bigquery emulator: 127.0.0.1:$PORT answers but not as BigQuery"
    return 1
  else
    echo "bigquery emulator: down"
    return 1
  fi
}

case "${1:-}" in
  up)
    up
    print_env
    ;;
  down) down ;;
  status) status ;;
  env) print_env ;;
  lock)
    # shellcheck source=scripts/pinned-venv.sh
    source "$root/scripts/pinned-venv.sh"
    pinned_venv_lock "$here" "the BigQuery emulator"
    ;;
  *)
    echo "usage: $0 up|down|status|env|lock" >&2
    exit 2
    ;;
esac
