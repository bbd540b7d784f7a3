#!/usr/bin/env bash
# Server ingest on PostgreSQL (issue 15): `quill serve` on SQLite, `quill serve --store postgres://…` and
# MLflow's tracking server with `--backend-store-uri postgresql://…` on the SAME PostgreSQL server, side by side
# in one run, with the same load generator (bench/server/loadgen.py) and the fair method of bench/server/run.sh
# (every timed phase starts once the server under test AND the PostgreSQL server are idle; MLflow's SQLAlchemy
# pool raised).
#
#   bench/server/postgres.sh [--skip-build] [--quill PATH] [--repeats N] [--points N] [--mlflow-points N]
#                            [--runs N] [--many-points N] [--mlflow-many-points N] [--single N]
#                            [--mlflow-single N] [--mlflow-version V] [--mlflow-venv DIR] [--mlflow-pool N]
#                            [--mlflow-workers N] [--pg-port PORT] [--out FILE]
#
# PostgreSQL: a private server of its own (scripts/postgres.sh in a temporary folder on --pg-port, 55441 by
# default, stopped at the end), so no other load on a shared server skews it. It keeps its defaults for
# durability (`fsync = on`, `synchronous_commit = on`: a commit is on disk before the server answers), the level
# of Quill's SQLite `--durability full` (WAL, `synchronous = FULL`), which the SQLite server runs with. Each
# server gets a fresh database (or SQLite folder) per repeat, dropped afterwards.
#
# Each repeat runs the three servers one after the other (the order reversed every other repeat); ratios are
# taken within a repeat, then the median over repeats. Workload (the issue's): one run, --points points
# (1,000,000) of one metric in batches of 1,000 over one connection, each batch sent when the previous one was
# answered, for every server (MLflow gets --mlflow-points, by default the same 1,000,000); then, unless --runs 0,
# --runs concurrent runs (50) sharing --many-points (1,000,000; MLflow --mlflow-many-points, 50,000), and
# --single single points per connection mode (1,000; MLflow --mlflow-single, 300; 0 skips them).
# MLflow (pinned, --mlflow-version) with psycopg2-binary is installed from PyPI into a throwaway virtualenv in
# the scratch folder unless --mlflow-venv names one that has both. The machine's load average is recorded at
# every phase.
set -euo pipefail
cd "$(dirname "$0")/../.."
export QUILL_EXTRAS=1

build=1
quill=""
repeats=3
points=1000000
mlflow_points=""
runs=50
many_points=1000000
mlflow_many_points=50000
single=1000
mlflow_single=300
mlflow_version=3.17.2
mlflow_venv=""
mlflow_pool=50
mlflow_workers=""
pg_port=55441
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --quill) quill="$2"; build=0; shift ;;
        --repeats) repeats="$2"; shift ;;
        --points) points="$2"; shift ;;
        --mlflow-points) mlflow_points="$2"; shift ;;
        --runs) runs="$2"; shift ;;
        --many-points) many_points="$2"; shift ;;
        --mlflow-many-points) mlflow_many_points="$2"; shift ;;
        --single) single="$2"; shift ;;
        --mlflow-single) mlflow_single="$2"; shift ;;
        --mlflow-version) mlflow_version="$2"; shift ;;
        --mlflow-venv) mlflow_venv="$2"; shift ;;
        --mlflow-pool) mlflow_pool="$2"; shift ;;
        --mlflow-workers) mlflow_workers="$2"; shift ;;
        --pg-port) pg_port="$2"; shift ;;
        --out) out="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
mlflow_points=${mlflow_points:-$points}
if [ "$single" = 0 ]; then mlflow_single=0; fi

if [ "$build" = 1 ]; then
    echo "==> building quill (release)" >&2
    swift build -c release --product quill >&2
fi
if [ -z "$quill" ]; then quill="$(swift build -c release --show-bin-path)/quill"; fi

source bench/lib.sh  # the working directory is the repository root (cd above)
bench_workdir server-postgres
pg_dir="$work/pg"
# Stops the servers, then PostgreSQL, then removes the scratch folder (lib.sh's trap, extended).
trap 'stop_server; scripts/postgres.sh stop "$pg_dir" || true; rm -rf "$work"' EXIT

echo "==> starting a private PostgreSQL on 127.0.0.1:$pg_port" >&2
chmod o+x "$work"  # PostgreSQL runs as its own user (scripts/postgres.sh), which must reach $pg_dir
pg_url=$(scripts/postgres.sh start "$pg_dir" "$pg_port")
pg_base=${pg_url%/postgres}
pg_pid=$(head -1 "$pg_dir/data/postmaster.pid")
psql -qAt "$pg_url" -c "SHOW fsync" -c "SHOW synchronous_commit" -c "SHOW wal_sync_method" -c "SELECT version()" \
    > "$work/pg-settings.txt"

if [ -z "$mlflow_venv" ]; then
    echo "==> installing mlflow $mlflow_version and psycopg2-binary into a throwaway virtualenv" >&2
    mlflow_venv="$work/venv"
    python3 -m venv "$mlflow_venv"
    "$mlflow_venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$mlflow_version" psycopg2-binary
fi
workers_option=()
if [ -n "$mlflow_workers" ]; then workers_option=(--workers "$mlflow_workers"); fi

phases=(--runs "$runs" --many-points "$many_points" --single "$single")
mlflow_phases=(--runs "$runs" --many-points "$mlflow_many_points" --single "$mlflow_single")

run_quill_sqlite() {  # REPEAT
    local repeat="$1" name="quill-sqlite-$1"
    echo "==> repeat $repeat/$repeats: quill serve --durability full (SQLite), $points points; $(uptime)" >&2
    start_quill "$quill" "$work/$name.log" --data "$work/$name" --durability full
    python3 bench/server/idle.py --url "$url" --path /healthz --pid "$server_pid" --warm-up 16 > /dev/null
    python3 bench/server/loadgen.py --tool quill --url "$url" --points "$points" "${phases[@]}" \
        --pid "$server_pid" > "$work/$name.json"
    stop_server
    rm -rf "$work/$name"
    cat "$work/$name.json" >&2
}

run_quill_postgres() {  # REPEAT
    local repeat="$1" name="quill-postgres-$1" database="quill_bench_$1"
    echo "==> repeat $repeat/$repeats: quill serve --store postgres (database $database), $points points; $(uptime)" >&2
    psql -qX "$pg_url" -c "CREATE DATABASE $database"
    start_quill "$quill" "$work/$name.log" --data "$work/$name" --store "$pg_base/$database"
    python3 bench/server/idle.py --url "$url" --path /healthz --pid "$server_pid" --also-pid "$pg_pid" --warm-up 16 \
        > /dev/null
    python3 bench/server/loadgen.py --tool quill --url "$url" --points "$points" "${phases[@]}" \
        --pid "$server_pid" --also-pid "$pg_pid" > "$work/$name.json"
    stop_server
    psql -qX "$pg_url" -c "DROP DATABASE $database"
    rm -rf "$work/$name"
    cat "$work/$name.json" >&2
}

run_mlflow_postgres() {  # REPEAT
    local repeat="$1" name="mlflow-postgres-$1" database="mlflow_bench_$1" port
    echo "==> repeat $repeat/$repeats: mlflow server (PostgreSQL, database $database), $mlflow_points points; $(uptime)" >&2
    psql -qX "$pg_url" -c "CREATE DATABASE $database"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    MLFLOW_SQLALCHEMYSTORE_POOL_SIZE="$mlflow_pool" MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW="$mlflow_pool" \
        "$mlflow_venv/bin/mlflow" server --backend-store-uri "postgresql+psycopg2://postgres@127.0.0.1:$pg_port/$database" \
        --default-artifact-root "$work/mlflow-artifacts" --host 127.0.0.1 --port "$port" "${workers_option[@]}" \
        > "$work/$name.log" 2>&1 &
    server_pid=$!
    python3 bench/server/idle.py --url "http://127.0.0.1:$port" --path /health --pid "$server_pid" \
        --also-pid "$pg_pid" --warm-up 16 > "$work/$name-startup.json"
    python3 bench/server/loadgen.py --tool mlflow --url "http://127.0.0.1:$port" --points "$mlflow_points" \
        "${mlflow_phases[@]}" --pid "$server_pid" --also-pid "$pg_pid" > "$work/$name.json"
    stop_server
    psql -qX "$pg_url" -c "DROP DATABASE $database"
    cat "$work/$name.json" >&2
}

servers=(run_quill_sqlite run_quill_postgres run_mlflow_postgres)
for repeat in $(seq "$repeats"); do
    # Alternate the order, so a load that drifts during a repeat favours no server.
    if [ $((repeat % 2)) = 1 ]; then
        for server in "${servers[@]}"; do "$server" "$repeat"; done
    else
        for ((i = ${#servers[@]} - 1; i >= 0; i--)); do "${servers[$i]}" "$repeat"; done
    fi
done

python3 - "$work" "$repeats" "$mlflow_version" "${mlflow_workers:-default (4)}" "$mlflow_pool" "$out" <<'PY'
import json, statistics, sys
work, repeats, version, workers, pool, out = sys.argv[1:7]
rng = range(1, int(repeats) + 1)
load = lambda name: [json.load(open(f"{work}/{name}-{r}.json")) for r in rng]
s, p, m = load("quill-sqlite"), load("quill-postgres"), load("mlflow-postgres")
startup = [json.load(open(f"{work}/mlflow-postgres-{r}-startup.json")) for r in rng]
settings = open(f"{work}/pg-settings.txt").read().split("\n")
med = lambda rows, key: statistics.median(row[key] for row in rows)
# Ratios within each repeat (the servers ran minutes apart), then their median.
ratio = lambda a, b, key, invert=False: statistics.median(
    (y[key] / x[key]) if invert else (x[key] / y[key]) for x, y in zip(a, b))
print(f"PostgreSQL: {settings[3]}; fsync {settings[0]}, synchronous_commit {settings[1]}, wal_sync_method {settings[2]}")
print(f"MLflow {version} (workers: {workers}; SQLAlchemy pool {pool} + overflow {pool} per worker); {repeats} repeats; medians")
print("| measure | Quill, SQLite (`full`) | Quill, PostgreSQL | MLflow, PostgreSQL | PostgreSQL / SQLite | Quill / MLflow, both on PostgreSQL |")
print("|---|---:|---:|---:|---:|---:|")
def row(label, key, fmt, invert=False):
    if key not in s[0]:
        return
    print(f"| {label} | {fmt(med(s, key))} | {fmt(med(p, key))} | {fmt(med(m, key))} | "
          f"**{ratio(p, s, key, invert):.2f}** | **{ratio(p, m, key, invert):.1f}×** |")
rate = lambda v: f"{v:,.0f}"
ms = lambda v: f"{v:.3f}"
row(f"points/s, one run, batches of {s[0]['batch']:,} ({s[0]['points']:,} / {p[0]['points']:,} / {m[0]['points']:,} points)",
    "one_run_points_per_s", rate)
if "many_runs" in s[0]:
    row(f"points/s, {s[0]['many_runs']} concurrent runs ({s[0]['many_runs_points']:,} / {p[0]['many_runs_points']:,} / "
        f"{m[0]['many_runs_points']:,} points)", "many_runs_points_per_s", rate)
    fails = [sum(r["many_runs_errors"] for r in rows) for rows in (s, p, m)]
    print(f"| concurrent runs that failed (of {s[0]['many_runs'] * len(s)}, all repeats) | " + " | ".join(map(str, fails)) + " | | |")
row("single point, kept-alive connection, median ms", "single_point_median_ms", ms, True)
row("single point, new connection per request, median ms", "single_point_new_conn_median_ms", ms, True)
print()
per = lambda rows, key: ", ".join(f"{r[key]:,.0f}" for r in rows)
print("per repeat, one-run points/s: SQLite", per(s, "one_run_points_per_s"), "| PostgreSQL", per(p, "one_run_points_per_s"),
      "| MLflow", per(m, "one_run_points_per_s"))
if "many_runs" in s[0]:
    print("per repeat, 50-run points/s: SQLite", per(s, "many_runs_points_per_s"), "| PostgreSQL",
          per(p, "many_runs_points_per_s"), "| MLflow", per(m, "many_runs_points_per_s"))
print("MLflow start-up until idle, s:", ", ".join(f"{x['idle_after_s']:.1f}" for x in startup))
loads = [r[k] for rows in (s, p, m) for r in rows for k in r if k.endswith("load_average")]
print(f"load average (1 min) at the start of the timed phases: {min(loads):.2f} to {max(loads):.2f}, "
      f"median {statistics.median(loads):.2f}")
one_run = ratio(p, s, "one_run_points_per_s")
versus = ratio(p, m, "one_run_points_per_s")
print(f"goal, PostgreSQL at least half of SQLite's one-run rate: {'met' if one_run >= 0.5 else 'NOT met'} ({one_run:.2f})")
print(f"goal, Quill on PostgreSQL at least 50x MLflow on PostgreSQL: {'met' if versus >= 50 else 'NOT met'} ({versus:.1f}x)")
if out:
    json.dump({"mlflow_version": version, "mlflow_workers": workers, "mlflow_pool": int(pool), "postgres": settings,
               "quill_sqlite": s, "quill_postgres": p, "mlflow_postgres": m, "mlflow_startup": startup},
              open(out, "w"), indent=1)
PY
