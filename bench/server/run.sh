#!/usr/bin/env bash
# Server ingest: Quill's batch endpoint vs MLflow's tracking server (log-batch, SQLite backend), side by
# side in one run, with the same load generator (bench/server/loadgen.py).
#
#   bench/server/run.sh [--skip-build] [--points N] [--mlflow-points N]
#
# MLflow is installed from PyPI into a throwaway virtualenv that is deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=1
points=1000000
mlflow_points=1000000
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --points) points="$2"; shift ;;
        --mlflow-points) mlflow_points="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$build" = 1 ]; then
    echo "==> building quill (release)" >&2
    swift build -c release --product quill >&2
fi
quill="$(swift build -c release --show-bin-path)/quill"

work="$(mktemp -d /tmp/quill-bench-server.XXXXXX)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "==> quill serve (SQLite) on a free port" >&2
"$quill" serve --port 0 --data "$work/quill" > "$work/quill.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "listening" "$work/quill.log" 2>/dev/null && break; sleep 0.1; done
quill_url="http://$(grep -o '127.0.0.1:[0-9]*' "$work/quill.log")"
python3 bench/server/loadgen.py --tool quill --url "$quill_url" --points "$points" --history > "$work/quill.json"
cat "$work/quill.json" >&2

echo "==> installing mlflow into a throwaway virtualenv" >&2
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check mlflow
"$work/venv/bin/pip" freeze --disable-pip-version-check | grep -i '^mlflow==' >&2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$work/venv/bin/mlflow" server --backend-store-uri "sqlite:///$work/mlflow.db" --default-artifact-root "$work/mlflow-artifacts" \
    --host 127.0.0.1 --port "$port" --workers 1 > "$work/mlflow.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.2; done
python3 bench/server/loadgen.py --tool mlflow --url "http://127.0.0.1:$port" --points "$mlflow_points" > "$work/mlflow.json"
cat "$work/mlflow.json" >&2

python3 - "$work/quill.json" "$work/mlflow.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))
print(f"| metric | Quill | MLflow | ratio |")
print(f"|---|---:|---:|---:|")
print(f"| points/s, one run, batches of {q['batch']} ({q['points']:,} vs {m['points']:,} points) | {q['one_run_points_per_s']:,.0f} | {m['one_run_points_per_s']:,.0f} | **{q['one_run_points_per_s']/m['one_run_points_per_s']:.0f}x** |")
print(f"| points/s, {q['many_runs']} concurrent runs (runs with an error not counted) | {q['many_runs_points_per_s']:,.0f} | {m['many_runs_points_per_s']:,.0f} | **{q['many_runs_points_per_s']/max(m['many_runs_points_per_s'], 1):.0f}x** |")
print(f"| concurrent runs that failed | {q['many_runs_errors']} | {m['many_runs_errors']} | |")
print(f"| single-point request, median ms | {q['single_point_median_ms']:.3f} | {m['single_point_median_ms']:.2f} | {m['single_point_median_ms']/q['single_point_median_ms']:.0f}x faster |")
print(f"| single-point request, p99 ms | {q['single_point_p99_ms']:.3f} | {m['single_point_p99_ms']:.2f} | |")
print(f"| full history of a 100,000-point metric, median ms | {q['history_100k_full_ms_median']:.1f} | | |")
print(f"| downsampled history of a {q['points']:,}-point metric (≤2,000 points), median ms | {q['history_1m_downsampled_ms_median']:.1f} | | |")
PY
