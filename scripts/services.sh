#!/usr/bin/env bash
# The embedded PostgreSQL and Redis that `make up` and `make test` use when no external ones are
# configured. Real servers from Debian packages, private to this checkout:
#   data under .spincart/ (git-ignored), loopback only.
#
# Ports: 15432 (PostgreSQL) and 16379 (Redis) by default — below Linux's ephemeral range
# (32768-60999), so no outgoing connection can be holding them. If one is taken anyway, the next
# free port is used, said on the terminal and remembered in .spincart/{pg,redis}/port.
# SPINCART_PG_PORT / SPINCART_REDIS_PORT choose others.
#
# Connections: real Spin 4 keeps a pool of up to 64 PostgreSQL connections per component, so
# max_connections is sized from spin.toml (components x 64 + 200); see docs/real-spin.md "PostgreSQL connections" and `scripts/components.sh count`.
# pg_stat_statements is loaded so that tests and benchmarks can count the statements of a
# checkout (the contrib module ships with Debian's PostgreSQL), sized so that it never evicts.
#
#   scripts/services.sh start    install (if missing), initialise (once) and start both servers
#   scripts/services.sh stop     stop both
#   scripts/services.sh status   print what runs where
#   scripts/services.sh env      print SPIN_VARIABLE_* lines for the running servers
#
# Set SPIN_VARIABLE_DB_URL / SPIN_VARIABLE_REDIS_URL to use servers of your own instead; the
# matching embedded server is then left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE_DIR=${SPINCART_STATE_DIR:-$PWD/.spincart}
remembered_port() { # remembered_port <service> <default>
  if [ -s "$STATE_DIR/$1/port" ]; then cat "$STATE_DIR/$1/port"; else echo "$2"; fi
}
PG_PORT=${SPINCART_PG_PORT:-$(remembered_port pg 15432)}
REDIS_PORT=${SPINCART_REDIS_PORT:-$(remembered_port redis 16379)}
# Spin 4: one pool of up to 64 connections per component; plus room for tests, psql, migrations.
COMPONENTS=$(grep -c '^\[component\.[a-z0-9-]*\]$' spin.toml 2>/dev/null || echo 50)
PG_MAX_CONNECTIONS=${SPINCART_PG_MAX_CONNECTIONS:-$(( COMPONENTS * 64 + 200 ))}
# Distinct statements pg_stat_statements tracks: enough that the tests' many databases never
# make it evict (it drops the least-used entries, which would undercount a checkout).
PG_STATEMENTS_MAX=50000
PG_USER=spincart
PG_DB=spincart

say() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_package() { # ensure_package <command-to-test> <debian-package>
  if ! command -v "$1" >/dev/null 2>&1 && ! ls $1 >/dev/null 2>&1; then
    say "installing $2 (Debian package)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$2" >/dev/null
  fi
}

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || { echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2; exit 1; }
  echo "$d"
}

# PostgreSQL refuses to run as root: when we are root, its files belong to `postgres`.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { [ -f "$STATE_DIR/pg/data/postmaster.pid" ] && as_pg "$(pg_bindir)/pg_ctl" -D "$STATE_DIR/pg/data" status >/dev/null 2>&1; }
# Ours: the server answering on the port is the one whose pid this checkout recorded.
redis_running() {
  [ -s "$STATE_DIR/redis/redis.pid" ] || return 1
  local pid; pid=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')
  [ -n "$pid" ] && [ "$pid" = "$(cat "$STATE_DIR/redis/redis.pid")" ]
}
port_answers() { redis-cli -h 127.0.0.1 -p "$1" ping >/dev/null 2>&1; }

start_postgres() {
  ensure_package "/usr/lib/postgresql/*/bin/pg_ctl" postgresql
  local bin; bin=$(pg_bindir)
  mkdir -p "$STATE_DIR/pg"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$STATE_DIR/pg"; fi
  if [ ! -f "$STATE_DIR/pg/data/PG_VERSION" ]; then
    say "initialising PostgreSQL data directory in $STATE_DIR/pg/data"
    as_pg "$bin/initdb" -D "$STATE_DIR/pg/data" -U "$PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # A development/test instance: durability traded for speed (never do this in production).
    cat >>"$STATE_DIR/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'UTC'
CONF
  fi
  if pg_running; then
    # A server started for fewer components (spin.toml grew, e.g. more saga shards) is restarted.
    local have statements
    have=$(psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -Atc 'SHOW max_connections' 2>/dev/null || echo 0)
    statements=$(psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -Atc 'SHOW pg_stat_statements.max' 2>/dev/null || echo 0)
    if [ "${have:-0}" -lt "$PG_MAX_CONNECTIONS" ] || [ "${statements:-0}" -lt "$PG_STATEMENTS_MAX" ]; then
      say "PostgreSQL on 127.0.0.1:$PG_PORT allows $have connections and tracks $statements statements, spin.toml needs $PG_MAX_CONNECTIONS and the tests $PG_STATEMENTS_MAX: restarting it"
      as_pg "$bin/pg_ctl" -D "$STATE_DIR/pg/data" -m fast -w stop >/dev/null
    fi
  fi
  if pg_running; then
    say "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    local tries=0
    while true; do
      say "starting PostgreSQL on 127.0.0.1:$PG_PORT (max_connections $PG_MAX_CONNECTIONS: $COMPONENTS components x 64 + 200)"
      : >"$STATE_DIR/pg/server.log"; chown postgres "$STATE_DIR/pg/server.log" 2>/dev/null || true
      if as_pg "$bin/pg_ctl" -D "$STATE_DIR/pg/data" -l "$STATE_DIR/pg/server.log" \
           -o "-p $PG_PORT -c max_connections=$PG_MAX_CONNECTIONS -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=$PG_STATEMENTS_MAX" \
           -w start >/dev/null 2>&1; then
        break
      fi
      if grep -q "Address already in use" "$STATE_DIR/pg/server.log" && [ -z "${SPINCART_PG_PORT:-}" ] && [ $tries -lt 20 ]; then
        tries=$((tries + 1)); say "port $PG_PORT is taken by another server; trying $((PG_PORT + 1))"; PG_PORT=$((PG_PORT + 1))
        continue
      fi
      echo "PostgreSQL did not start; see $STATE_DIR/pg/server.log" >&2
      exit 1
    done
    echo "$PG_PORT" >"$STATE_DIR/pg/port"
  fi
  if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE $PG_DB" >/dev/null
  fi
}

start_redis() {
  ensure_package redis-server redis-server
  mkdir -p "$STATE_DIR/redis"
  if redis_running; then
    say "Redis already running on 127.0.0.1:$REDIS_PORT"
    return
  fi
  local tries=0
  while true; do
    if port_answers "$REDIS_PORT" && [ -z "${SPINCART_REDIS_PORT:-}" ] && [ $tries -lt 20 ]; then
      tries=$((tries + 1)); say "port $REDIS_PORT is taken by another server; trying $((REDIS_PORT + 1))"; REDIS_PORT=$((REDIS_PORT + 1))
      continue
    fi
    say "starting Redis on 127.0.0.1:$REDIS_PORT"
    : >"$STATE_DIR/redis/server.log"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STATE_DIR/redis" \
      --daemonize yes --pidfile "$STATE_DIR/redis/redis.pid" --logfile "$STATE_DIR/redis/server.log" \
      --save "" --appendonly no >/dev/null
    for _ in $(seq 1 100); do
      if redis_running; then echo "$REDIS_PORT" >"$STATE_DIR/redis/port"; return; fi
      grep -q "Address already in use" "$STATE_DIR/redis/server.log" && break
      sleep 0.1
    done
    if grep -q "Address already in use" "$STATE_DIR/redis/server.log" && [ -z "${SPINCART_REDIS_PORT:-}" ] && [ $tries -lt 20 ]; then
      tries=$((tries + 1)); say "port $REDIS_PORT is taken; trying $((REDIS_PORT + 1))"; REDIS_PORT=$((REDIS_PORT + 1))
      continue
    fi
    echo "Redis did not start; see $STATE_DIR/redis/server.log" >&2
    exit 1
  done
}

stop_all() {
  if [ -f "$STATE_DIR/pg/data/postmaster.pid" ]; then
    say "stopping PostgreSQL"
    as_pg "$(pg_bindir)/pg_ctl" -D "$STATE_DIR/pg/data" -m fast -w stop >/dev/null || true
  fi
  if redis_running; then
    say "stopping Redis"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
}

print_env() {
  [ -n "${SPIN_VARIABLE_DB_URL:-}" ] || echo "SPIN_VARIABLE_DB_URL=postgres://$PG_USER@127.0.0.1:$PG_PORT/$PG_DB"
  [ -n "${SPIN_VARIABLE_REDIS_URL:-}" ] || echo "SPIN_VARIABLE_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
}

case "${1:-}" in
  start)
    if [ -n "${SPIN_VARIABLE_DB_URL:-}" ]; then say "using external PostgreSQL (SPIN_VARIABLE_DB_URL)"; else start_postgres; fi
    if [ -n "${SPIN_VARIABLE_REDIS_URL:-}" ]; then say "using external Redis (SPIN_VARIABLE_REDIS_URL)"; else start_redis; fi
    ;;
  stop) stop_all ;;
  status)
    if pg_running; then echo "postgres: running on 127.0.0.1:$PG_PORT"; else echo "postgres: stopped"; fi
    if redis_running; then echo "redis: running on 127.0.0.1:$REDIS_PORT"; else echo "redis: stopped"; fi
    ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
