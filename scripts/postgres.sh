#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks (issue 15): a fresh data directory, listening on
# 127.0.0.1 only, run by the unprivileged `postgres` user Debian's package creates (PostgreSQL refuses to run as
# root), with trust authentication for local connections.
#
#   scripts/postgres.sh start DIR [PORT]   prints the server's URL: postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/postgres.sh stop DIR           stops it (fast shutdown) and leaves DIR for the next start
#   scripts/postgres.sh url DIR            prints the URL of the server running in DIR
#
# QUILL_POSTGRES_OPTIONS adds server options to `start` (scripts/test.sh turns off the syncs of its throwaway
# server); without it the server keeps PostgreSQL's defaults, which the benchmarks rely on and check.
#
# Installs Debian's `postgresql` when it is missing (as root). Without root, DIR must be writable by the caller,
# who runs the server themselves.
set -euo pipefail

usage() {
    echo "usage: scripts/postgres.sh start DIR [PORT] | stop DIR | url DIR" >&2
    exit 2
}
[ $# -ge 2 ] || usage
action=$1
dir=$2
port=${3:-55432}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] && [ "$action" = start ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: PostgreSQL is not installed; install it with: sudo apt-get install -y postgresql" >&2
        exit 1
    fi
    echo "==> installing postgresql" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

# Runs a PostgreSQL program as the server's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    # The server outlives this script: close every descriptor but 0-2 first, so it holds none of the caller's
    # pipes open (a caller reading our output to its end would otherwise wait for the server to exit).
    for fd in /proc/$$/fd/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    data="$dir/data"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$bin/initdb" --pgdata="$data" --username=postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
            >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            echo "error: initdb failed in $data (log above)" >&2
            exit 1
        }
    fi
    if as_owner "$bin/pg_ctl" status --pgdata="$data" >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" stop --pgdata="$data" --mode=fast --wait >/dev/null
    fi
    # Many connections: three replicas and the test suites each keep a pool.
    as_owner "$bin/pg_ctl" start --pgdata="$data" --wait --timeout=60 --log="$dir/server.log" \
        --options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=400 -c shared_buffers=256MB ${QUILL_POSTGRES_OPTIONS:-}" \
        >/dev/null || {
        tail -20 "$dir/server.log" >&2
        echo "error: PostgreSQL did not start on 127.0.0.1:$port (log above; is the port taken?)" >&2
        exit 1
    }
    echo "$port" >"$dir/port"
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    [ -d "$dir/data" ] || exit 0
    as_owner "$bin/pg_ctl" stop --pgdata="$dir/data" --mode=fast --wait >/dev/null 2>&1 || true
    ;;
url)
    echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
    ;;
*)
    usage
    ;;
esac
