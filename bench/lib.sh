# Sourced by the bench scripts: a scratch folder removed on exit, and one server at a time, stopped on exit.
#   bench_workdir NAME              sets $work to a new folder under /tmp
#   start_quill BIN LOG ARGS...     starts `BIN serve --port 0 ARGS...` logging to LOG, waits for its
#                                   "listening" line (at most 30 s) and sets $server_pid and $url
#   stop_server                     stops the server started last (quill or a peer whose pid is $server_pid)

server_pid=""

stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}

bench_workdir() {
    work="$(mktemp -d "/tmp/quill-bench-$1.XXXXXX")"
    trap 'stop_server; rm -rf "$work"' EXIT
}

start_quill() {
    local bin="$1" log="$2"
    shift 2
    "$bin" serve --port 0 "$@" > "$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 300); do grep -q "listening" "$log" 2>/dev/null && break; sleep 0.1; done
    url="http://$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1)"
    if [ "$url" = "http://" ]; then
        echo "error: $bin serve did not start; see $log" >&2
        exit 1
    fi
}
