#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite: installed from Debian's packages if missing,
# a fresh cluster in a temporary directory, listening on loopback only, stopped by PID.
#   scripts/postgres.sh start   -> prints the database URL on stdout
#   scripts/postgres.sh stop
#   scripts/postgres.sh kill     -> kill -9 of the server and its processes, data kept (a crash)
#   scripts/postgres.sh resume   -> starts the killed server again on the same data
set -euo pipefail
PORT="${DATAVAULT_PG_PORT:-55432}"
STATE="${TMPDIR:-/tmp}/datavault-pg-$PORT"

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

install() {
  if [ -z "$(pg_bin)" ]; then
    echo "installing PostgreSQL from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
}

as_pg() {
  # PostgreSQL refuses to run as root; use the postgres account when we are root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  install
  local bin; bin=$(pg_bin)
  stop >/dev/null 2>&1 || true
  mkdir -p "$STATE"
  [ "$(id -u)" = 0 ] && chown postgres "$STATE"
  as_pg "$bin/initdb" -D "$STATE/data" -U postgres -A trust --no-sync >"$STATE/initdb.log" 2>&1
  as_pg "$bin/pg_ctl" -D "$STATE/data" -l "$STATE/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $STATE -c fsync=off -c max_connections=200" start >/dev/null
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres datavault_test
  echo "postgresql://postgres@127.0.0.1:$PORT/datavault_test"
}

stop() {
  local bin; bin=$(pg_bin) || return 0
  if [ -f "$STATE/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$STATE/data" -m fast -w stop >/dev/null 2>&1 || \
      kill -9 "$(head -n 1 "$STATE/data/postmaster.pid")" 2>/dev/null || true
  fi
  rm -rf "$STATE"
}

crash() {
  local pid
  pid=$(head -n 1 "$STATE/data/postmaster.pid")
  # The postmaster and every backend at once, as a power cut would: a backend left running
  # would keep the shared memory and refuse the restart.
  pkill -9 -P "$pid" 2>/dev/null || true
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null || pgrep -P "$pid" >/dev/null; do sleep 0.1; done
}

resume() {
  local bin; bin=$(pg_bin)
  as_pg "$bin/pg_ctl" -D "$STATE/data" -l "$STATE/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $STATE -c fsync=off -c max_connections=200" start >/dev/null
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill) crash ;;
  resume) resume ;;
  *) echo "usage: $0 start|stop|kill|resume" >&2; exit 2 ;;
esac
