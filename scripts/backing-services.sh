#!/usr/bin/env bash
# Real PostgreSQL, Redis and Kafka on 127.0.0.1 for integration tests and local runs, and the BigQuery
# emulator (scripts/bigquery/emulator.sh: bqemulator from a pinned venv; BIGQUERY_EMULATOR_PORT, default 9050).
#
#   scripts/backing-services.sh up       reuse what already runs, install and start what is missing
#   scripts/backing-services.sh down     stop what this script started (servers it reused stay up)
#   scripts/backing-services.sh status   say what answers on each port and who owns it
#   scripts/backing-services.sh env      print the export lines without starting anything
#
# `up` and `env` print only `export ...` lines on stdout; progress goes to stderr, so callers can
# `eval "$(scripts/backing-services.sh up)"`. See docs/runbooks/backing-services.md.
#
# Works unattended from a fresh clone on Debian 12 as root (CI has no stdin): PostgreSQL and Redis come
# from Debian's packages, the Kafka broker from Maven Central jars (scripts/kafka/pom.xml) started with
# `java` directly. Idempotent, and quick when everything already runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKING_DIR="${ETA_BACKING_DIR:-$ROOT/.local/backing}"

PGPORT="${PGPORT:-5432}"
REDIS_PORT="${REDIS_PORT:-6379}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"

# The suite's role and database; test credentials, never used outside loopback.
PG_USER="${ETA_PG_USER:-eta}"
PG_PASSWORD="${ETA_PG_PASSWORD:-eta}"
PG_DB="${ETA_PG_DB:-eta}"

WAIT_SECONDS="${ETA_BACKING_WAIT_SECONDS:-90}"

DATABASE_URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PGPORT/$PG_DB"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"

log() { printf 'backing-services: %s\n' "$*" >&2; }
die() {
  printf 'backing-services: ERROR: %s\n' "$*" >&2
  exit 1
}

# Prints the last lines of a log file to stderr, so a failed start explains itself without a second look.
tail_log() {
  local file="$1"
  if [ -f "$file" ]; then
    printf -- '--- last lines of %s ---\n' "$file" >&2
    tail -n 40 "$file" >&2 || true
    printf -- '---\n' >&2
  else
    printf 'backing-services: (no log at %s)\n' "$file" >&2
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_port_number() {
  local name="$1" value="$2"
  [[ "$value" =~ ^[0-9]+$ ]] && [ "$value" -ge 1 ] && [ "$value" -le 65535 ] \
    || die "$name=$value is not a port number (1-65535)"
}

print_env() {
  printf 'export DATABASE_URL=%q\n' "$DATABASE_URL"
  printf 'export REDIS_URL=%q\n' "$REDIS_URL"
  printf 'export KAFKA_BROKERS=%q\n' "$KAFKA_BROKERS"
  "$ROOT/scripts/bigquery/emulator.sh" env
}

# ---------------------------------------------------------------------------------------------- packages

APT_UPDATED=0
apt_install() {
  [ "$(id -u)" -eq 0 ] || die "need root to apt-get install $*; install them by hand or run as root"
  command -v apt-get >/dev/null || die "no apt-get on this machine; install $* by hand"
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold -y -q)
  log "installing $* from Debian's packages"
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "$@" >&2 </dev/null; then
    if [ "$APT_UPDATED" -eq 0 ]; then
      log "install failed; running apt-get update once and retrying"
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >&2 </dev/null
      APT_UPDATED=1
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "$@" >&2 </dev/null \
        || die "apt-get install $* failed"
    else
      die "apt-get install $* failed"
    fi
  fi
}

# ---------------------------------------------------------------------------------------------- postgres

pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/psql" ]; then
    echo "$dir"
  fi
}

PG_HOME=""
pg_home_init() {
  # Postgres runs as the `postgres` user, which must reach its data dir. A clone under a private home
  # (e.g. /root, mode 700) is out of its reach, so fall back to a folder under postgres's own home.
  if [ -z "$PG_HOME" ]; then
    PG_HOME="$BACKING_DIR/postgres"
    mkdir -p "$PG_HOME"
    if ! runuser -u postgres -- test -x "$PG_HOME" 2>/dev/null; then
      local key
      key="$(printf '%s' "$BACKING_DIR" | sha1sum | cut -c1-12)"
      PG_HOME="$(getent passwd postgres | cut -d: -f6)/eta-backing-$key"
      log "postgres user cannot reach $BACKING_DIR; keeping its data in $PG_HOME"
    fi
  fi
}

# psql as the superuser over the private unix socket of the server this script runs.
pg_super() {
  local home="$1"
  shift
  runuser -u postgres -- "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$home/run" -p "$PGPORT" -U postgres \
    -d postgres "$@"
}

pg_app_ok() {
  PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=5 "$PGBIN/psql" -X -q -w -At \
    -h 127.0.0.1 -p "$PGPORT" -U "$PG_USER" -d "$PG_DB" -c 'select 1' >/dev/null 2>&1
}

pg_ensure_role() {
  local home="$1"
  # Identifiers and the password are the suite's fixed test values; quote_ident/quote_literal keep an
  # override from breaking the SQL.
  pg_super "$home" -v u="$PG_USER" -v p="$PG_PASSWORD" -v d="$PG_DB" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'u', :'p')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'u', :'p') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'d', :'u')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'d') \gexec
SQL
}

pg_ensure_installed() {
  PGBIN="$(pg_bindir)"
  if [ -z "$PGBIN" ]; then
    # Debian's postinst would otherwise create and start a `main` cluster on 5432 that this script does
    # not own; ours runs from its own data dir with test settings.
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
      mkdir -p /etc/postgresql-common
      echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
    fi
    apt_install postgresql postgresql-client
    PGBIN="$(pg_bindir)"
    [ -n "$PGBIN" ] || die "postgresql installed but no initdb/pg_ctl/psql under /usr/lib/postgresql/*/bin"
  fi
  id postgres >/dev/null 2>&1 || die "no 'postgres' system user (it comes with Debian's postgresql package)"
}

pg_up() {
  pg_ensure_installed
  local home data logf
  pg_home_init
  home="$PG_HOME"
  data="$home/data"
  logf="$home/postgres.log"

  if port_open "$PGPORT"; then
    if pg_app_ok; then
      log "postgres: reusing the server on 127.0.0.1:$PGPORT"
      return 0
    fi
    # Our own server on this port (line 4 of postmaster.pid is its port) that lost the role: repair it.
    if [ "$(sed -n 4p "$data/postmaster.pid" 2>/dev/null)" = "$PGPORT" ] \
      && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      pg_ensure_role "$home"
      pg_app_ok || die "postgres on :$PGPORT is ours but refuses $PG_USER; see $logf"
      return 0
    fi
    die "127.0.0.1:$PGPORT is taken by something that does not accept $DATABASE_URL. Give that role" \
      "access, stop it, or pick another port: PGPORT=5433 $0 up"
  fi

  mkdir -p "$home"
  chown postgres: "$home"
  if [ ! -s "$data/PG_VERSION" ]; then
    log "postgres: initdb in $data"
    rm -rf "$data"
    runuser -u postgres -- "$PGBIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C \
      --auth-local=peer --auth-host=scram-sha-256 >"$home/initdb.log" 2>&1 \
      || {
        tail_log "$home/initdb.log"
        die "initdb failed"
      }
  fi
  runuser -u postgres -- mkdir -p "$home/run"
  # Settings are passed on the command line rather than edited into postgresql.conf, so a port change
  # or a new setting applies on the next start without re-initialising. The data is disposable, hence
  # no fsync: tests are faster and a crash costs only test data.
  local opts="-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$home/run"
  opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
  log "postgres: starting on 127.0.0.1:$PGPORT (log $logf)"
  if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$data" -l "$logf" -o "$opts" -w -t "$WAIT_SECONDS" start >&2 9>&-; then
    tail_log "$logf"
    die "postgres did not start within ${WAIT_SECONDS}s"
  fi
  pg_ensure_role "$home" || {
    tail_log "$logf"
    die "could not create role/database $PG_USER/$PG_DB"
  }
  pg_app_ok || {
    tail_log "$logf"
    die "postgres started but $DATABASE_URL does not connect"
  }
  touch "$home/started-by-script"
}

pg_down() {
  PGBIN="$(pg_bindir)"
  [ -n "$PGBIN" ] || return 0
  local home data
  pg_home_init
  home="$PG_HOME"
  data="$home/data"
  if [ -f "$data/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "postgres: stopping"
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >&2
  else
    log "postgres: not started by this script"
  fi
  rm -f "$home/started-by-script"
}

pg_status() {
  PGBIN="$(pg_bindir)"
  if [ -z "$PGBIN" ]; then
    echo "postgres: not installed"
    return 1
  fi
  pg_home_init
  local data="$PG_HOME/data"
  local owner="external"
  if [ -f "$data/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    owner="started by this script, data $data"
  fi
  if pg_app_ok; then
    echo "postgres: up ($owner) $DATABASE_URL"
  elif port_open "$PGPORT"; then
    echo "postgres: 127.0.0.1:$PGPORT answers but refuses $PG_USER"
    return 1
  else
    echo "postgres: down"
    return 1
  fi
}

# ------------------------------------------------------------------------------------------------- redis

redis_ping() {
  [ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null || true)" = "PONG" ]
}

redis_up() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install redis-server redis-tools
  fi
  local home="$BACKING_DIR/redis"
  if port_open "$REDIS_PORT"; then
    if redis_ping; then
      log "redis: reusing the server on 127.0.0.1:$REDIS_PORT"
      return 0
    fi
    die "127.0.0.1:$REDIS_PORT is taken by something that does not answer Redis PING without a" \
      "password. Stop it or pick another port: REDIS_PORT=6380 $0 up"
  fi
  mkdir -p "$home"
  log "redis: starting on 127.0.0.1:$REDIS_PORT (log $home/redis.log)"
  # No persistence: test data is disposable and snapshots would only cost the shared cores.
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes --daemonize yes \
    --dir "$home" --pidfile "$home/redis.pid" --logfile "$home/redis.log" \
    --save '' --appendonly no >&2 9>&- || {
    tail_log "$home/redis.log"
    die "redis-server failed to start"
  }
  local i
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    redis_ping && return 0
    sleep 0.2
  done
  tail_log "$home/redis.log"
  die "redis did not answer PING within ${WAIT_SECONDS}s"
}

# A pid file alone proves nothing after a reboot (the number may be reused), so also check the command.
pid_alive() {
  local pidfile="$1" pattern="$2" pid
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern"
}

stop_pid() {
  local name="$1" pidfile="$2" pattern="$3" pid i
  if ! pid_alive "$pidfile" "$pattern"; then
    log "$name: not started by this script"
    rm -f "$pidfile"
    return 0
  fi
  pid="$(cat "$pidfile")"
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still running after 30s; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

redis_down() { stop_pid redis "$BACKING_DIR/redis/redis.pid" "redis-server"; }

redis_status() {
  local owner="external"
  pid_alive "$BACKING_DIR/redis/redis.pid" redis-server && owner="started by this script"
  if command -v redis-cli >/dev/null && redis_ping; then
    echo "redis: up ($owner) $REDIS_URL"
  elif port_open "$REDIS_PORT"; then
    echo "redis: 127.0.0.1:$REDIS_PORT answers but not to PING"
    return 1
  else
    echo "redis: down"
    return 1
  fi
}

# ------------------------------------------------------------------------------------------------- kafka

KAFKA_HOME="$BACKING_DIR/kafka"

kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml"
}

# Sends an ApiVersions v0 request and checks the reply carries our correlation id and no error. A port
# that merely accepts TCP is not proof of a broker; this is, and it needs no client tool or JVM start.
kafka_answers() {
  local reply
  reply="$(
    timeout 5 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      # size=15: api_key=18 (ApiVersions), version=0, correlation_id=0x00e7a001, client_id="probe"
      printf "\x00\x00\x00\x0f\x00\x12\x00\x00\x00\xe7\xa0\x01\x00\x05probe" >&3
      head -c 10 <&3 | od -An -tx1 | tr -d " \n"
    ' _ "$KAFKA_PORT" 2>/dev/null || true
  )"
  # bytes 4-7: correlation id; bytes 8-9: error code 0.
  [ "${reply:8:12}" = "00e7a0010000" ]
}

java_ok() {
  command -v java >/dev/null || return 1
  local v
  v="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge 17 ]
}

kafka_ensure_jars() {
  local version libs tmp
  version="$(kafka_version)"
  [ -n "$version" ] || die "cannot read kafka.version from scripts/kafka/pom.xml"
  libs="$KAFKA_HOME/libs-$version"
  if [ -f "$libs/.complete" ]; then
    KAFKA_LIBS="$libs"
    return 0
  fi
  java_ok || apt_install openjdk-17-jre-headless
  java_ok || die "Kafka needs Java 17 or newer; java on PATH is $(command -v java || echo missing)"
  command -v mvn >/dev/null || apt_install maven
  log "kafka: resolving kafka_2.13:$version jars from Maven Central (first run only)"
  tmp="$KAFKA_HOME/.libs-$version.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -B -q -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" </dev/null >"$KAFKA_HOME/mvn.log" 2>&1; then
    tail_log "$KAFKA_HOME/mvn.log"
    die "mvn could not resolve the Kafka jars"
  fi
  ls "$tmp"/kafka_2.13-"$version".jar >/dev/null 2>&1 || die "kafka_2.13-$version.jar missing after mvn"
  touch "$tmp/.complete"
  rm -rf "$libs"
  mv "$tmp" "$libs"
  KAFKA_LIBS="$libs"
}

# The broker and its tools run as plain `java` from the Maven jars; a test broker needs far less than the
# 1 GiB heap of the tarball's start script.
kafka_java_cmd() {
  KAFKA_JAVA=(java -Xms128m "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$ROOT/scripts/kafka/log4j2.xml" "-Dkafka.logs.dir=$KAFKA_HOME/logs"
    -cp "$KAFKA_LIBS/*")
}

kafka_java() {
  kafka_java_cmd
  "${KAFKA_JAVA[@]}" "$@"
}

kafka_up() {
  check_port_number KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  local pidfile="$KAFKA_HOME/kafka.pid" logf="$KAFKA_HOME/logs/server.log"
  if port_open "$KAFKA_PORT"; then
    if kafka_answers; then
      log "kafka: reusing the broker on 127.0.0.1:$KAFKA_PORT"
      return 0
    fi
    if pid_alive "$pidfile" kafka.Kafka \
      && grep -q "^listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT," "$KAFKA_HOME/config/server.properties" 2>/dev/null; then
      log "kafka: our broker is starting; waiting"
    else
      die "127.0.0.1:$KAFKA_PORT is taken by something that is not a Kafka broker. Stop it or pick" \
        "another port: KAFKA_PORT=19092 $0 up"
    fi
  else
    port_open "$KAFKA_CONTROLLER_PORT" \
      && die "controller port 127.0.0.1:$KAFKA_CONTROLLER_PORT is taken; set KAFKA_CONTROLLER_PORT"
    kafka_ensure_jars
    mkdir -p "$KAFKA_HOME/logs" "$KAFKA_HOME/config"
    local conf="$KAFKA_HOME/config/server.properties" data="$KAFKA_HOME/data"
    sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@DATA_DIR@|$data|g" "$ROOT/scripts/kafka/server.properties.in" >"$conf.new"
    mv "$conf.new" "$conf"
    # The formatted log dir records the controller's endpoint and the Kafka version's metadata
    # features; after a change of either, the test data is thrown away rather than migrated.
    local stamp
    stamp="$(basename "$KAFKA_LIBS") $(sha1sum "$conf" | cut -c1-40)"
    if [ ! -f "$data/meta.properties" ] || [ "$(cat "$KAFKA_HOME/format.stamp" 2>/dev/null)" != "$stamp" ]; then
      rm -rf "$data"
      local cluster_id
      cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$KAFKA_HOME/logs/format.log" | tail -n 1)"
      log "kafka: formatting $data (cluster $cluster_id)"
      kafka_java kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$conf" \
        >>"$KAFKA_HOME/logs/format.log" 2>&1 || {
        tail_log "$KAFKA_HOME/logs/format.log"
        die "kafka storage format failed"
      }
      echo "$stamp" >"$KAFKA_HOME/format.stamp"
    fi
    log "kafka: starting $(basename "$KAFKA_LIBS") on 127.0.0.1:$KAFKA_PORT (log $logf)"
    # setsid detaches the broker from the caller's session and process group, so it outlives the
    # shell (or CI step) that ran `up`; `down` stops it by pid.
    kafka_java_cmd
    (
      cd "$KAFKA_HOME"
      setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidfile" \
        "${KAFKA_JAVA[@]}" kafka.Kafka "$conf" </dev/null >"$KAFKA_HOME/logs/stdout.log" 2>&1 9>&- &
    )
  fi
  local i
  for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
    if kafka_answers; then
      log "kafka: ready"
      return 0
    fi
    if [ "$i" -gt 8 ] && ! pid_alive "$pidfile" kafka.Kafka; then
      tail_log "$KAFKA_HOME/logs/stdout.log"
      tail_log "$logf"
      die "the Kafka broker exited during start"
    fi
    sleep 0.25
  done
  tail_log "$logf"
  die "Kafka did not answer on 127.0.0.1:$KAFKA_PORT within ${WAIT_SECONDS}s"
}

kafka_down() { stop_pid kafka "$KAFKA_HOME/kafka.pid" kafka.Kafka; }

kafka_status() {
  local owner="external"
  pid_alive "$KAFKA_HOME/kafka.pid" kafka.Kafka && owner="started by this script, data $KAFKA_HOME/data"
  if kafka_answers; then
    echo "kafka: up ($owner) $KAFKA_BROKERS"
  elif port_open "$KAFKA_PORT"; then
    echo "kafka: 127.0.0.1:$KAFKA_PORT answers but not as a Kafka broker"
    return 1
  else
    echo "kafka: down"
    return 1
  fi
}

# -------------------------------------------------------------------------------------------------- main

with_lock() {
  mkdir -p "$BACKING_DIR"
  # Parallel test runs may call `up` at once; one at a time, so no two initdb or formats race. Daemons
  # are started with fd 9 closed (`9>&-`): a server that inherited it would hold the lock for its life.
  exec 9>"$BACKING_DIR/.lock"
  if ! flock -w 600 9; then
    die "another backing-services.sh held $BACKING_DIR/.lock for 10 minutes"
  fi
}

main() {
  local cmd="${1:-}"
  check_port_number PGPORT "$PGPORT"
  check_port_number REDIS_PORT "$REDIS_PORT"
  check_port_number KAFKA_PORT "$KAFKA_PORT"
  case "$cmd" in
    up)
      with_lock
      local t0=$SECONDS
      pg_up
      redis_up
      kafka_up
      "$ROOT/scripts/bigquery/emulator.sh" up >/dev/null
      log "all up in $((SECONDS - t0))s"
      print_env
      ;;
    down)
      with_lock
      "$ROOT/scripts/bigquery/emulator.sh" down
      kafka_down
      redis_down
      pg_down
      ;;
    status)
      local rc=0
      pg_status || rc=1
      redis_status || rc=1
      kafka_status || rc=1
      "$ROOT/scripts/bigquery/emulator.sh" status || rc=1
      return "$rc"
      ;;
    env)
      print_env
      ;;
    *)
      echo "usage: $0 up|down|status|env" >&2
      return 2
      ;;
  esac
}

main "$@"
