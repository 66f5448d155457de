#!/usr/bin/env bash
# A throwaway PostgreSQL server for the PostgreSqlLedgerStore tests.
#
#   eval "$(bash tests/Micropay.Core.Storage.PostgreSql.Tests/pg.sh start)"   # exports MICROPAY_PG_CONNECTION
#   dotnet test tests/Micropay.Core.Storage.PostgreSql.Tests
#   bash tests/Micropay.Core.Storage.PostgreSql.Tests/pg.sh restart   # what a client sees of a server restart
#   bash tests/Micropay.Core.Storage.PostgreSql.Tests/pg.sh stop
#
# start: initdb into a fresh temporary data directory, owned by an unprivileged user when run as root (initdb refuses
# root), start postgres listening on 127.0.0.1 only, on a free port, with trust authentication (a local test server:
# no password exists), create the database "micropay_test", and print `export MICROPAY_PG_CONNECTION=...` on stdout.
# The same line, the data directory and the binaries' directory are written to a state file ($MICROPAY_PG_STATE,
# default ${TMPDIR:-/tmp}/micropay-pg.env) that `stop` reads. Server settings are PostgreSQL's defaults where they
# touch durability (fsync=on, synchronous_commit=on, full_page_writes=on): the tests check the store's durability,
# so the server must not cheat.
# With MICROPAY_PG_OWNER_PID set, start also leaves a detached watcher that runs stop once that process has exited.
# restart: restart the recorded server (fast shutdown, which ends every session, then start on the same port and data
# directory), as an operator's restart or a failover looks to a client; waits at most 60 s each way.
# stop: stop the server (fast shutdown) and delete the data directory and the state file. Safe to run when nothing is
# running. Diagnostics go to stderr; stdout carries only the export line.
set -euo pipefail

STATE="${MICROPAY_PG_STATE:-${TMPDIR:-/tmp}/micropay-pg.env}"
DATABASE=micropay_test
PG_USER_NAME=micropay-pg

log() { echo "pg.sh: $*" >&2; }

find_bindir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

ensure_binaries() {
  local dir
  if dir="$(find_bindir)"; then
    echo "$dir"
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "PostgreSQL binaries not found: installing the Debian package 'postgresql'"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    if dir="$(find_bindir)"; then
      echo "$dir"
      return 0
    fi
  fi
  log "no PostgreSQL binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin"
  return 1
}

# The user the server runs as: ourselves unless root; as root, a system user created once for this purpose.
server_user() {
  if [ "$(id -u)" != 0 ]; then
    id -un
    return 0
  fi
  if ! id "$PG_USER_NAME" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_NAME" >&2
  fi
  echo "$PG_USER_NAME"
}

as_user() {
  local user="$1"
  shift
  if [ "$(id -u)" = 0 ]; then
    # runuser needs no password and keeps no root privileges; -u runs the command directly (no login shell).
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
    return 0
  fi
  local port
  for port in $(seq 54320 54420); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  log "no free port found in 54320-54420"
  return 1
}

start() {
  if [ -f "$STATE" ]; then
    log "a server from an earlier start is recorded in $STATE: stopping it first"
    stop
  fi
  local bindir user datadir port
  bindir="$(ensure_binaries)"
  user="$(server_user)"
  # As root the server's user must reach the directory: /tmp is open to all, a root TMPDIR may not be.
  local parent="${TMPDIR:-/tmp}"
  [ "$(id -u)" = 0 ] && parent=/tmp
  datadir="$(mktemp -d "$parent/micropay-pg.XXXXXX")"
  # A start that fails from here on leaves no data directory behind.
  trap 'if [ ! -f "$STATE" ]; then rm -rf "$datadir"; fi' RETURN
  chown "$user" "$datadir"
  chmod 700 "$datadir"
  as_user "$user" "$bindir/initdb" -D "$datadir" -U postgres --auth=trust --encoding=UTF8 --no-locale >/dev/null
  # Sockets in the data directory (the default /var/run/postgresql may not exist or be writable).
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$datadir'"
    echo "max_connections = 200"
  } >>"$datadir/postgresql.conf"
  local attempt
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    if as_user "$user" "$bindir/pg_ctl" -D "$datadir" -o "-p $port" -l "$datadir/server.log" -w -t 60 start >&2; then
      break
    fi
    log "start on port $port failed (attempt $attempt); server log:"
    tail -n 20 "$datadir/server.log" >&2 || true
    port=""
  done
  if [ -z "$port" ]; then
    rm -rf "$datadir"
    return 1
  fi
  local connection="Host=127.0.0.1;Port=$port;Username=postgres;Database=$DATABASE"
  cat >"$STATE" <<STATE_EOF
PG_BINDIR='$bindir'
PG_DATADIR='$datadir'
PG_USER='$user'
export MICROPAY_PG_CONNECTION='$connection'
STATE_EOF
  local psql="$bindir/psql"
  [ -x "$psql" ] || psql="$(command -v psql)"
  "$psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DATABASE" >&2
  if [ -n "${MICROPAY_PG_OWNER_PID:-}" ]; then
    # Started for a test process (TestServer): a detached watcher stops the server once that process is gone, however
    # it ends (a test host may be killed rather than exit). Its output goes nowhere, so it holds no caller's pipe open.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; MICROPAY_PG_STATE="$2" bash "$3" stop' \
      watcher "$MICROPAY_PG_OWNER_PID" "$STATE" "$0" </dev/null >/dev/null 2>&1 &
  fi
  log "PostgreSQL listening on 127.0.0.1:$port, data in $datadir (state file $STATE)"
  echo "export MICROPAY_PG_CONNECTION='$connection'"
}

stop() {
  if [ ! -f "$STATE" ]; then
    log "no server recorded in $STATE: nothing to stop"
    return 0
  fi
  local PG_BINDIR="" PG_DATADIR="" PG_USER=""
  # shellcheck disable=SC1090
  . "$STATE"
  if [ -n "$PG_DATADIR" ] && [ -d "$PG_DATADIR" ]; then
    as_user "$PG_USER" "$PG_BINDIR/pg_ctl" -D "$PG_DATADIR" -m fast -w -t 60 stop >&2 || log "pg_ctl stop failed (server not running?)"
    rm -rf "$PG_DATADIR"
  fi
  rm -f "$STATE"
  log "stopped"
}

restart() {
  if [ ! -f "$STATE" ]; then
    log "no server recorded in $STATE: nothing to restart"
    return 1
  fi
  local PG_BINDIR="" PG_DATADIR="" PG_USER=""
  # shellcheck disable=SC1090
  . "$STATE"
  # pg_ctl restart starts the server with the options recorded in postmaster.opts: the same port.
  as_user "$PG_USER" "$PG_BINDIR/pg_ctl" -D "$PG_DATADIR" -m fast -w -t 60 -l "$PG_DATADIR/server.log" restart >&2
  log "restarted"
}

case "${1:-}" in
  start) start ;;
  restart) restart ;;
  stop) stop ;;
  *) echo "usage: $0 start|restart|stop" >&2; exit 2 ;;
esac
