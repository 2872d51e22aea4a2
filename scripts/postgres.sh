#!/usr/bin/env bash
# A throw-away local PostgreSQL server for the test suite, idempotently (each step is skipped
# when already done).
#   scripts/postgres.sh start — installs Debian's postgresql if no server is present, creates
#                               the cluster if needed, starts it if not running, and prints the
#                               admin URL on stdout (url=$(scripts/postgres.sh start))
#   scripts/postgres.sh stop  — stops it (the data directory is kept)
# Everything but the URL goes to stderr.
#   VMSHIFT_PG_DIR   data directory (default /tmp/vmshift-pg)
#   VMSHIFT_PG_PORT  TCP port on 127.0.0.1 (default 55432)
set -euo pipefail
mode=${1:-}
data=$(realpath -m "${VMSHIFT_PG_DIR:-/tmp/vmshift-pg}")
port=${VMSHIFT_PG_PORT:-55432}
user=vmshift

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The newest installed server's bin directory, or nothing.
find_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; fi
}

# PostgreSQL refuses to run as root: as root, run its tools as the `postgres` system user
# (created by Debian's package).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Whether PID is a live (not zombie) postgres process.
postmaster_alive() {
  local pid=$1 state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || return 1
  state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ]
}

ready() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" >/dev/null 2>&1; }

bin=$(find_bin)
# The tools run as `postgres` may not be able to read the caller's working directory.
cd /

case "$mode" in
  start)
    if [ -z "$bin" ]; then
      step "installing Debian's postgresql"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >/dev/null
      bin=$(find_bin)
      if [ -z "$bin" ]; then
        echo "postgresql installed but no /usr/lib/postgresql/*/bin/initdb found" >&2
        exit 1
      fi
    fi

    mkdir -p "$data"
    chmod 700 "$data"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$data"; fi

    if [ ! -f "$data/PG_VERSION" ]; then
      step "creating the test cluster in $data"
      # trust authentication: a local throw-away test cluster, listening on the loopback
      # interface and a socket inside its own (0700) data directory only.
      as_owner "$bin/initdb" -D "$data" --auth=trust --username="$user" \
        --encoding=UTF8 --locale=C >/dev/null
    fi

    if ! ready; then
      # A postmaster.pid (and a socket lock) left by a killed server block the start: remove
      # them when their process is gone (or is a zombie, or the PID now belongs to something
      # else).
      for lock in "$data/postmaster.pid" "$data/.s.PGSQL.$port.lock"; do
        if [ -f "$lock" ] && ! postmaster_alive "$(head -n 1 "$lock")"; then
          step "removing a stale ${lock##*/}"
          rm -f "$lock"
          if [ "${lock##*/}" = ".s.PGSQL.$port.lock" ]; then rm -f "${lock%.lock}"; fi
        fi
      done
      step "starting PostgreSQL on 127.0.0.1:$port"
      log=$data/server.log
      log_size=$(stat -c %s "$log" 2>/dev/null || echo 0)
      # fsync and friends off: test speed, the data is throw-away. Many connections: tests run
      # in parallel, each with its own pool.
      as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -s start -o "\
-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$data' \
-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" >&2 || {
        echo "PostgreSQL did not start; its log says:" >&2
        tail -c "+$((log_size + 1))" "$log" >&2 || true
        exit 1
      }
    fi
    echo "postgres://$user@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -n "$bin" ] && [ -f "$data/PG_VERSION" ] \
      && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      step "stopping PostgreSQL"
      as_owner "$bin/pg_ctl" -D "$data" -m fast -w -s stop >&2
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
