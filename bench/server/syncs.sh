#!/usr/bin/env bash
# Equal durability, checked: how many fsync/fdatasync calls each server makes per acknowledged write.
#
#   bench/server/syncs.sh [--skip-build] [--quill PATH] [--writes N] [--mlflow-version V] [--mlflow-venv DIR]
#
# Starts `quill serve --durability full`, `quill serve --durability relaxed` and `mlflow server` (SQLite) each
# under `strace -f -e trace=fsync,fdatasync`, waits until it is idle (bench/server/idle.py), then sends N
# single-point writes and N batches of 1,000 points one after another over one connection
# (bench/server/loadgen.py's client) and counts the sync calls made meanwhile. A write that is durable when
# acknowledged needs at least one sync; MLflow keeps SQLite's defaults (rollback journal, synchronous FULL:
# about 4 syncs per commit, the journal and the database file), Quill `full` syncs the WAL once per group
# commit, Quill `relaxed` only at checkpoints. Prints a small table. MLflow is installed from PyPI into a
# throwaway virtualenv unless --mlflow-venv names one that has it.
set -euo pipefail
cd "$(dirname "$0")/../.."
export QUILL_EXTRAS=1

build=1
quill=""
writes=50
mlflow_version=3.17.2
venv=""
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --quill) quill="$2"; build=0; shift ;;
        --writes) writes="$2"; shift ;;
        --mlflow-version) mlflow_version="$2"; shift ;;
        --mlflow-venv) venv="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
command -v strace > /dev/null || { echo "error: strace is missing; install it (apt-get install strace)" >&2; exit 1; }
if [ "$build" = 1 ]; then swift build -c release --product quill >&2; fi
if [ -z "$quill" ]; then quill="$(swift build -c release --show-bin-path)/quill"; fi

source bench/lib.sh
bench_workdir syncs
if [ -z "$venv" ]; then
    echo "==> installing mlflow $mlflow_version into a throwaway virtualenv" >&2
    venv="$work/venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$mlflow_version"
fi

# stop_traced: strace waits for its command, so the server (strace's child) is stopped, then strace.
stop_traced() {
    local child
    child="$(cat "/proc/$server_pid/task/$server_pid/children" 2>/dev/null || true)"
    if [ -n "$child" ]; then kill $child 2>/dev/null || true; fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

# measure NAME TOOL URL HEALTH: writes while strace records, prints "NAME syncs-per-single syncs-per-batch".
measure() {
    local name="$1" tool="$2" url="$3" health="$4" before after_single after_batch
    python3 bench/server/idle.py --url "$url" --path "$health" --pid "$server_pid" --warm-up 4 > /dev/null
    PYTHONPATH=bench/server python3 - "$tool" "$url" "$writes" "$work/$name.strace" <<'PY'
import sys, time, loadgen, idle
tool, url, writes, trace = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
t = loadgen.tool(tool, url)
conn = t.connect()
run = t.new_run(conn, "syncs")
count = lambda: sum(1 for line in open(trace) if "fsync(" in line or "fdatasync(" in line)
time.sleep(1)
marks = [count()]
for step in range(writes):
    conn.call(t.single_request(run, step), "single point")
time.sleep(1)  # strace writes its lines as the calls return
marks.append(count())
for first in range(0, writes * 1000, 1000):
    conn.call(t.batch_request(run, 10_000 + first, 10_000 + first + 1000), "batch")
time.sleep(1)
marks.append(count())
print(f"| {sys.argv[4].rsplit('/', 1)[1].removesuffix('.strace')} | {(marks[1] - marks[0]) / writes:.2f} | {(marks[2] - marks[1]) / writes:.2f} |")
PY
}

echo "| server | syncs per single-point write | syncs per batch of 1,000 |"
echo "|---|---:|---:|"
for mode in full relaxed; do
    log="$work/quill-$mode.log"
    strace -f -e trace=fsync,fdatasync -o "$work/quill-$mode.strace" \
        "$quill" serve --port 0 --data "$work/quill-$mode" --durability "$mode" > "$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 300); do grep -q "listening" "$log" 2>/dev/null && break; sleep 0.1; done
    url="http://$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1)"
    measure "quill-$mode" quill "$url" /healthz
    stop_traced
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
strace -f -e trace=fsync,fdatasync -o "$work/mlflow.strace" \
    "$venv/bin/mlflow" server --backend-store-uri "sqlite:///$work/mlflow.db" \
    --default-artifact-root "$work/mlflow-artifacts" --host 127.0.0.1 --port "$port" > "$work/mlflow.log" 2>&1 &
server_pid=$!
measure mlflow mlflow "http://127.0.0.1:$port" /health
stop_traced
