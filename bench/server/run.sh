#!/usr/bin/env bash
# Server ingest: Quill's batch endpoint vs MLflow's tracking server (log-batch, SQLite backend), side by
# side in one run, with the same load generator (bench/server/loadgen.py).
#
#   bench/server/run.sh [--skip-build] [--repeats N] [--points N] [--mlflow-points N] [--mlflow-many-points N]
#                       [--connections N] [--mlflow-workers N] [--users] [--out FILE]
#
# --users creates a user first, so Quill runs with authentication on and every request carries its API key.
#
# Each repeat starts a fresh `quill serve` (release build, SQLite) and a fresh `mlflow server` (SQLite),
# one after the other, and runs the same generator against each; the summary gives medians over repeats
# and the ratios. MLflow is slow (a few hundred to a few thousand points/s), so by default it gets 20,000
# points in one run and 50,000 points over the 50 concurrent runs (one full batch of 1,000 per run) instead of
# 1,000,000 each; points per second are compared, and batches are 1,000 points for both tools. MLflow is installed from PyPI into a throwaway
# virtualenv that is deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=1
repeats=3
points=1000000
mlflow_points=20000
mlflow_many_points=50000
connections=1
mlflow_workers=""
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --repeats) repeats="$2"; shift ;;
        --points) points="$2"; shift ;;
        --mlflow-points) mlflow_points="$2"; shift ;;
        --mlflow-many-points) mlflow_many_points="$2"; shift ;;
        --connections) connections="$2"; shift ;;
        --mlflow-workers) mlflow_workers="$2"; shift ;;
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
quill="$(swift build -c release --show-bin-path)/quill"

source bench/lib.sh  # the working directory is the repository root (cd above)
bench_workdir server

echo "==> installing mlflow into a throwaway virtualenv" >&2
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check mlflow
mlflow_version="$("$work/venv/bin/python" -c 'import mlflow; print(mlflow.__version__)')"
echo "mlflow $mlflow_version" >&2
workers_option=()
if [ -n "$mlflow_workers" ]; then workers_option=(--workers "$mlflow_workers"); fi

for repeat in $(seq "$repeats"); do
    echo "==> repeat $repeat/$repeats: quill serve (SQLite), $points points" >&2
    key_option=()
    if [ "${users:-0}" = 1 ]; then
        key="$("$quill" users create bench --data "$work/quill-$repeat" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])')"
        key_option=(--api-key "$key")
    fi
    start_quill "$quill" "$work/quill-$repeat.log" --data "$work/quill-$repeat"
    python3 bench/server/loadgen.py --tool quill --url "$url" --points "$points" \
        --connections "$connections" --history "${key_option[@]}" > "$work/quill-$repeat.json"
    stop_server
    rm -rf "$work/quill-$repeat"
    cat "$work/quill-$repeat.json" >&2

    echo "==> repeat $repeat/$repeats: mlflow server (SQLite), $mlflow_points points, $mlflow_many_points in 50 runs" >&2
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$work/venv/bin/mlflow" server --backend-store-uri "sqlite:///$work/mlflow-$repeat.db" \
        --default-artifact-root "$work/mlflow-artifacts" --host 127.0.0.1 --port "$port" "${workers_option[@]}" \
        > "$work/mlflow-$repeat.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.2; done
    python3 bench/server/loadgen.py --tool mlflow --url "http://127.0.0.1:$port" --points "$mlflow_points" \
        --many-points "$mlflow_many_points" --single 300 --connections "$connections" > "$work/mlflow-$repeat.json"
    stop_server
    cat "$work/mlflow-$repeat.json" >&2
done

python3 - "$work" "$repeats" "$mlflow_version" "${mlflow_workers:-default}" "$out" <<'PY'
import json, statistics, sys
work, repeats, version, workers, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
q = [json.load(open(f"{work}/quill-{r}.json")) for r in range(1, repeats + 1)]
m = [json.load(open(f"{work}/mlflow-{r}.json")) for r in range(1, repeats + 1)]
med = lambda rows, key: statistics.median(row[key] for row in rows)
# Ratios are taken within each repeat (both tools measured minutes apart), then the median of those.
ratio = lambda key, invert=False: statistics.median(
    (b[key] / a[key]) if invert else (a[key] / b[key]) for a, b in zip(q, m))
print(f"mlflow {version} (server workers: {workers}); {repeats} repeats; medians")
print(f"| measure | Quill | MLflow {version} | ratio |")
print(f"|---|---:|---:|---:|")
print(f"| points/s, one run, batches of {q[0]['batch']:,} ({q[0]['points']:,} vs {m[0]['points']:,} points) | {med(q, 'one_run_points_per_s'):,.0f} | {med(m, 'one_run_points_per_s'):,.0f} | **{ratio('one_run_points_per_s'):.0f}x** |")
print(f"| points/s, {q[0]['many_runs']} concurrent runs ({q[0]['many_runs_points']:,} vs {m[0]['many_runs_points']:,} points) | {med(q, 'many_runs_points_per_s'):,.0f} | {med(m, 'many_runs_points_per_s'):,.0f} | **{ratio('many_runs_points_per_s'):.0f}x** |")
print(f"| concurrent runs that failed (all repeats) | {sum(r['many_runs_errors'] for r in q)} | {sum(r['many_runs_errors'] for r in m)} | |")
print(f"| single-point request, median ms | {med(q, 'single_point_median_ms'):.3f} | {med(m, 'single_point_median_ms'):.2f} | {ratio('single_point_median_ms', True):.0f}x faster |")
print(f"| single-point request, p99 ms | {med(q, 'single_point_p99_ms'):.3f} | {med(m, 'single_point_p99_ms'):.2f} | |")
print(f"| full history of a 100,000-point metric, median ms | {med(q, 'history_100k_full_ms_median'):.1f} | | |")
print(f"| downsampled history (2,000 points) of a {q[0]['points']:,}-point metric, median ms | {med(q, 'history_1m_downsampled_ms_median'):.1f} | | |")
print()
print("generator's own CPU time / wall time (Quill, one run; 50 runs):",
      f"{med(q, 'one_run_client_cpu_s') / med(q, 'one_run_seconds'):.0%};",
      f"{med(q, 'many_runs_client_cpu_s') / med(q, 'many_runs_seconds'):.0%}")
print("per repeat, Quill one-run points/s:", ", ".join(f"{r['one_run_points_per_s']:,.0f}" for r in q))
print("per repeat, MLflow one-run points/s:", ", ".join(f"{r['one_run_points_per_s']:,.0f}" for r in m))
print("per repeat, one-run ratio:", ", ".join(f"{a['one_run_points_per_s'] / b['one_run_points_per_s']:.0f}x" for a, b in zip(q, m)))
print("per repeat, 50-run ratio:", ", ".join(f"{a['many_runs_points_per_s'] / b['many_runs_points_per_s']:.0f}x" for a, b in zip(q, m)))
if out:
    json.dump({"mlflow_version": version, "mlflow_workers": workers, "quill": q, "mlflow": m}, open(out, "w"), indent=1)
PY
