#!/usr/bin/env bash
# Server ingest: Quill's batch endpoint vs MLflow's tracking server (log-batch, SQLite backend), side by
# side in one run, with the same load generator (bench/server/loadgen.py), at equal durability.
#
#   bench/server/run.sh [--skip-build] [--quill PATH] [--repeats N] [--points N] [--mlflow-points N]
#                       [--mlflow-many-points N] [--single N] [--mlflow-single N] [--mlflow-version V]
#                       [--mlflow-pool N] [--mlflow-workers N] [--connections N] [--no-relaxed] [--users]
#                       [--out FILE]
#
# What makes it fair (issue 10):
# - every server is idle before each timed phase: bench/server/idle.py polls its health route (a new
#   connection per request) and the CPU time of its whole process tree until, two one-second windows in a
#   row, the health answers are fast and the tree uses under 5% of a core; MLflow's workers import and
#   connect for seconds after the port opens, and a load started then measures its start-up;
# - MLflow's SQLAlchemy pool is raised (MLFLOW_SQLALCHEMYSTORE_POOL_SIZE and _MAX_OVERFLOW, 50 each by
#   default, per worker) so 50 concurrent clients do not fail on `QueuePool limit of size 5 overflow 10
#   reached`; failed runs are still counted and printed beside every rate;
# - single-point latency on one kept-alive connection and on a new connection per request;
# - equal durability: MLflow's SQLite backend keeps SQLite's defaults (rollback journal `journal_mode =
#   DELETE`, `synchronous = FULL`: every commit syncs the journal and the database file), so it is compared
#   with Quill's default `--durability full` (WAL, `synchronous = FULL`, group commit); Quill's
#   `--durability relaxed` (`synchronous = NORMAL`) is measured beside it and labelled (--no-relaxed skips
#   it). bench/server/syncs.sh counts the syncs per write of each server.
#
# Each repeat starts a fresh `quill serve --durability full`, a fresh `quill serve --durability relaxed` and
# a fresh `mlflow server` (4 uvicorn workers by default), on new SQLite files under /tmp, one after the other
# (the order alternates between repeats), and runs the same generator against each; ratios are taken within
# each repeat, then the median over repeats. MLflow is slow, so by default it gets 20,000 points in one run,
# 50,000 points over the 50 concurrent runs (one full batch of 1,000 per run) and 300 single points per
# mode, where Quill gets 1,000,000, 1,000,000 and 1,000; points per second are compared, and batches are
# 1,000 points for both tools. MLflow (pinned, --mlflow-version) is installed from PyPI into a throwaway
# virtualenv that is deleted at the end. The machine's load average is recorded at every phase.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The benchmark executables are part of the package only when QUILL_EXTRAS is set; setting it here keeps
# the package plan (and so the build folder) the one the other scripts and the developers use.
export QUILL_EXTRAS=1

build=1
quill=""
repeats=5
points=1000000
mlflow_points=20000
mlflow_many_points=50000
single=1000
mlflow_single=300
mlflow_version=3.17.2
mlflow_pool=50
mlflow_workers=""
connections=1
relaxed=1
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --quill) quill="$2"; build=0; shift ;;
        --repeats) repeats="$2"; shift ;;
        --points) points="$2"; shift ;;
        --mlflow-points) mlflow_points="$2"; shift ;;
        --mlflow-many-points) mlflow_many_points="$2"; shift ;;
        --single) single="$2"; shift ;;
        --mlflow-single) mlflow_single="$2"; shift ;;
        --mlflow-version) mlflow_version="$2"; shift ;;
        --mlflow-pool) mlflow_pool="$2"; shift ;;
        --mlflow-workers) mlflow_workers="$2"; shift ;;
        --connections) connections="$2"; shift ;;
        --no-relaxed) relaxed=0 ;;
        --out) out="$2"; shift ;;
        --users) users=1 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "${users:-0}" = 1 ]; then echo "==> Quill with a user: every request carries an API key and is access-checked" >&2; fi

if [ "$build" = 1 ]; then
    echo "==> building quill (release)" >&2
    swift build -c release --product quill >&2
fi
if [ -z "$quill" ]; then quill="$(swift build -c release --show-bin-path)/quill"; fi

source bench/lib.sh  # the working directory is the repository root (cd above)
bench_workdir server

echo "==> installing mlflow $mlflow_version into a throwaway virtualenv" >&2
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$mlflow_version"
workers_option=()
if [ -n "$mlflow_workers" ]; then workers_option=(--workers "$mlflow_workers"); fi
modes=(full)
if [ "$relaxed" = 1 ]; then modes+=(relaxed); fi

run_quill() {  # run_quill MODE REPEAT
    local mode="$1" repeat="$2" key_option=()
    echo "==> repeat $repeat/$repeats: quill serve --durability $mode (SQLite), $points points; $(uptime)" >&2
    if [ "${users:-0}" = 1 ]; then
        key="$("$quill" users create bench --data "$work/quill-$mode-$repeat" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])')"
        key_option=(--api-key "$key")
    fi
    start_quill "$quill" "$work/quill-$mode-$repeat.log" --data "$work/quill-$mode-$repeat" --durability "$mode"
    python3 bench/server/idle.py --url "$url" --path /healthz --pid "$server_pid" --warm-up 16 > /dev/null
    python3 bench/server/loadgen.py --tool quill --url "$url" --points "$points" --single "$single" \
        --connections "$connections" --history --pid "$server_pid" "${key_option[@]}" > "$work/quill-$mode-$repeat.json"
    stop_server
    rm -rf "$work/quill-$mode-$repeat"
    cat "$work/quill-$mode-$repeat.json" >&2
}

run_mlflow() {  # run_mlflow REPEAT
    local repeat="$1" port
    echo "==> repeat $repeat/$repeats: mlflow server (SQLite), $mlflow_points points, $mlflow_many_points in 50 runs; $(uptime)" >&2
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    MLFLOW_SQLALCHEMYSTORE_POOL_SIZE="$mlflow_pool" MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW="$mlflow_pool" \
        "$work/venv/bin/mlflow" server --backend-store-uri "sqlite:///$work/mlflow-$repeat.db" \
        --default-artifact-root "$work/mlflow-artifacts" --host 127.0.0.1 --port "$port" "${workers_option[@]}" \
        > "$work/mlflow-$repeat.log" 2>&1 &
    server_pid=$!
    python3 bench/server/idle.py --url "http://127.0.0.1:$port" --path /health --pid "$server_pid" --warm-up 16 \
        > "$work/mlflow-$repeat-startup.json"
    python3 bench/server/loadgen.py --tool mlflow --url "http://127.0.0.1:$port" --points "$mlflow_points" \
        --many-points "$mlflow_many_points" --single "$mlflow_single" --connections "$connections" \
        --pid "$server_pid" > "$work/mlflow-$repeat.json"
    stop_server
    # The durability MLflow ran with: the journal mode is kept in the file; `synchronous` is per connection
    # and MLflow never sets it, so it is SQLite's default (2, FULL), which a new connection shows.
    python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute("PRAGMA journal_mode").fetchone()[0], c.execute("PRAGMA synchronous").fetchone()[0])' \
        "$work/mlflow-$repeat.db" > "$work/mlflow-$repeat-durability.txt"
    rm -f "$work/mlflow-$repeat.db"
    cat "$work/mlflow-$repeat.json" >&2
}

for repeat in $(seq "$repeats"); do
    # Alternate the order, so a load that drifts during a repeat favours neither tool.
    if [ $((repeat % 2)) = 1 ]; then
        for mode in "${modes[@]}"; do run_quill "$mode" "$repeat"; done
        run_mlflow "$repeat"
    else
        run_mlflow "$repeat"
        for ((i = ${#modes[@]} - 1; i >= 0; i--)); do run_quill "${modes[$i]}" "$repeat"; done
    fi
done

python3 - "$work" "$repeats" "$mlflow_version" "${mlflow_workers:-default (4)}" "$mlflow_pool" "$relaxed" "$out" <<'PY'
import json, statistics, sys
work, repeats, version, workers, pool, relaxed, out = sys.argv[1:8]
repeats, relaxed = int(repeats), relaxed == "1"
rng = range(1, repeats + 1)
q = [json.load(open(f"{work}/quill-full-{r}.json")) for r in rng]
qr = [json.load(open(f"{work}/quill-relaxed-{r}.json")) for r in rng] if relaxed else None
m = [json.load(open(f"{work}/mlflow-{r}.json")) for r in rng]
startup = [json.load(open(f"{work}/mlflow-{r}-startup.json")) for r in rng]
durability = {open(f"{work}/mlflow-{r}-durability.txt").read().split()[0] for r in rng}
synchronous = {open(f"{work}/mlflow-{r}-durability.txt").read().split()[1] for r in rng}
med = lambda rows, key: statistics.median(row[key] for row in rows)
# Ratios are taken within each repeat (the tools measured minutes apart), then the median of those.
def ratio(a_rows, key, invert=False):
    return statistics.median((b[key] / a[key]) if invert else (a[key] / b[key]) for a, b in zip(a_rows, m))
rate = lambda rows, key: f"{med(rows, key):,.0f}"
ms = lambda rows, key: f"{med(rows, key):.3f}"
def row(label, key, fmt, invert=False):
    cells = [fmt(q, key)] + ([fmt(qr, key)] if relaxed else []) + [fmt(m, key)]
    ratios = [f"**{ratio(q, key, invert):.1f}x**"] + ([f"{ratio(qr, key, invert):.1f}x"] if relaxed else [])
    print(f"| {label} | " + " | ".join(cells + ratios) + " |")
print(f"mlflow {version} (server workers: {workers}; SQLAlchemy pool {pool} + overflow {pool} per worker; "
      f"SQLite journal_mode {'/'.join(durability)}, synchronous {'/'.join(synchronous)}); {repeats} repeats; medians")
head = ["Quill, durable (`full`, default)"] + (["Quill, `relaxed`"] if relaxed else []) + [f"MLflow {version}"]
heads = ["ratio, durable"] + (["ratio, relaxed"] if relaxed else [])
print("| measure | " + " | ".join(head + heads) + " |")
print("|---|" + "---:|" * (len(head) + len(heads)))
row(f"points/s, one run, batches of {q[0]['batch']:,} ({q[0]['points']:,} vs {m[0]['points']:,} points)", "one_run_points_per_s", rate)
row(f"points/s, {q[0]['many_runs']} concurrent runs ({q[0]['many_runs_points']:,} vs {m[0]['many_runs_points']:,} points)", "many_runs_points_per_s", rate)
fails = [sum(r["many_runs_errors"] for r in rows) for rows in ([q] + ([qr] if relaxed else []) + [m])]
print(f"| concurrent runs that failed (of {q[0]['many_runs'] * repeats}, all repeats) | " + " | ".join(str(f) for f in fails) + " |" + " |" * len(heads))
row("single point, kept-alive connection, median ms", "single_point_median_ms", ms, True)
row("single point, kept-alive connection, p99 ms", "single_point_p99_ms", ms, True)
row("single point, new connection per request, median ms", "single_point_new_conn_median_ms", ms, True)
row("single point, new connection per request, p99 ms", "single_point_new_conn_p99_ms", ms, True)
extra = " |" * ((1 if relaxed else 0) + 1 + len(heads))
print(f"| full history of a 100,000-point metric, median ms | {med(q, 'history_100k_full_ms_median'):.1f}{extra}")
print(f"| downsampled history (2,000 points) of a {q[0]['points']:,}-point metric, median ms | {med(q, 'history_1m_downsampled_ms_median'):.1f}{extra}")
print()
first = [r["many_runs_first_error"] for r in m if r["many_runs_first_error"]]
if first:
    print("MLflow's first concurrent-run error:", first[0])
print("MLflow start-up until idle, s:", ", ".join(f"{s['idle_after_s']:.1f}" for s in startup))
print("generator's own CPU time / wall time (Quill durable, one run; 50 runs):",
      f"{med(q, 'one_run_client_cpu_s') / med(q, 'one_run_seconds'):.0%};",
      f"{med(q, 'many_runs_client_cpu_s') / med(q, 'many_runs_seconds'):.0%}")
loads = [r[k] for rows in ([q] + ([qr] if relaxed else []) + [m]) for r in rows for k in r if k.endswith("load_average")]
print(f"load average (1 min) at the start of the timed phases: {min(loads):.2f} to {max(loads):.2f}, median {statistics.median(loads):.2f}")
per = lambda rows, key, fmt: ", ".join(fmt(r[key]) for r in rows)
print("per repeat, one-run points/s: Quill durable", per(q, "one_run_points_per_s", lambda v: f"{v:,.0f}"),
      "| MLflow", per(m, "one_run_points_per_s", lambda v: f"{v:,.0f}"))
print("per repeat, 50-run points/s: Quill durable", per(q, "many_runs_points_per_s", lambda v: f"{v:,.0f}"),
      "| MLflow", per(m, "many_runs_points_per_s", lambda v: f"{v:,.0f}"), "| MLflow failed runs", per(m, "many_runs_errors", str))
print("per repeat, one-run ratio (durable):", ", ".join(f"{a['one_run_points_per_s'] / b['one_run_points_per_s']:.0f}x" for a, b in zip(q, m)))
print("per repeat, 50-run ratio (durable):", ", ".join(f"{a['many_runs_points_per_s'] / b['many_runs_points_per_s']:.0f}x" for a, b in zip(q, m)))
print("per repeat, single point new connection ms: Quill durable", per(q, "single_point_new_conn_median_ms", lambda v: f"{v:.3f}"),
      "| MLflow", per(m, "single_point_new_conn_median_ms", lambda v: f"{v:.2f}"))
print("per repeat, single point kept-alive ms: Quill durable", per(q, "single_point_median_ms", lambda v: f"{v:.3f}"),
      "| MLflow", per(m, "single_point_median_ms", lambda v: f"{v:.2f}"))
if out:
    json.dump({"mlflow_version": version, "mlflow_workers": workers, "mlflow_pool": int(pool),
               "mlflow_sqlite": {"journal_mode": sorted(durability), "synchronous": sorted(synchronous)},
               "quill_full": q, "quill_relaxed": qr, "mlflow": m, "mlflow_startup": startup}, open(out, "w"), indent=1)
PY
