#!/usr/bin/env bash
# MLflow's own Python client against MLflow's own tracking server and against `quill serve`, side by side in
# one run: the same workload script (bench/mlflow/workload.py) through the same client on each.
#
#   bench/mlflow/run.sh [--skip-build] [--quill PATH] [--python PATH] [--mlflow-version V] [--repeats N]
#                       [--steps N] [--batches N] [--runs N] [--points N] [--out FILE]
#
# - MLflow (pinned, --mlflow-version, default 3.17.2) is installed from PyPI into a throwaway virtualenv that is
#   deleted at the end (--python PATH uses a Python that already has that `mlflow` instead, e.g. the one
#   scripts/test.sh makes in .build/venv-mlflow-full). The same Python runs MLflow's server and the client.
# - `quill` is built in release (`swift build -c release --product quill`) unless --skip-build or --quill.
# - Each server gets a fresh SQLite database and runs for the whole benchmark: MLflow's `mlflow server` with its
#   defaults (4 uvicorn workers, SQLite's own journal), Quill's `quill serve` with its defaults (durable).
#   Nothing is timed until each server answers and is idle (bench/server/idle.py: fast health answers and under
#   5% of a core, two one-second windows in a row): MLflow's workers import and migrate for many seconds after
#   the port opens.
# - Not timed: 10,000 runs for the search (params opt/seed, metrics acc/loss, a tag; through the client for
#   Quill, through MLflow's own SQL store and ORM in one transaction for MLflow, which would otherwise take most
#   of an hour) and 100,000 points of one metric for the history (through the client, in batches of 1,000).
# - Timed, --repeats times, alternating which server goes first: fluent `mlflow.log_metric` per step (--steps,
#   default 2,000), `MlflowClient.log_batch` of 1,000 metrics (--batches, default 20), `search_runs` with a
#   filter on a metric and a param and an order_by, pages of 1,000 until the last, and `get_metric_history` of
#   all 100,000 points. Medians; the ratio is MLflow's time over Quill's, per repeat, then the median.
# - The client's own cost: the fluent and batch calls against bench/mlflow/noop_server.py, which answers `{}`
#   at once, and the search and history calls against the same server replaying Quill's answers from memory:
#   no server can be faster through this client.
set -euo pipefail
cd "$(dirname "$0")/../.."
export QUILL_EXTRAS=1
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true

build=1
quill=""
python=""
mlflow_version=3.17.2
repeats=5
steps=2000
batches=20
runs=10000
points=100000
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --quill) quill="$2"; build=0; shift ;;
        --python) python="$2"; shift ;;
        --mlflow-version) mlflow_version="$2"; shift ;;
        --repeats) repeats="$2"; shift ;;
        --steps) steps="$2"; shift ;;
        --batches) batches="$2"; shift ;;
        --runs) runs="$2"; shift ;;
        --points) points="$2"; shift ;;
        --out) out="$2"; shift ;;
        -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ "$build" = 1 ]; then
    echo "==> building quill (release)" >&2
    swift build -c release --product quill >&2
fi
if [ -z "$quill" ]; then quill="$(swift build -c release --show-bin-path)/quill"; fi

source bench/lib.sh
bench_workdir mlflow
mlflow_pid=""
noop_pid=""
replay_pid=""
trap 'stop_server; for p in $mlflow_pid $noop_pid $replay_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

if [ -z "$python" ]; then
    echo "==> installing mlflow $mlflow_version from PyPI into a throwaway virtualenv" >&2
    started=$SECONDS
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$mlflow_version"
    echo "    installed in $((SECONDS - started)) s" >&2
    python="$work/venv/bin/python"
fi
"$python" -c "import mlflow, sys; v = mlflow.__version__; sys.exit(0 if v == '$mlflow_version' else f'{sys.executable} has mlflow {v}, not $mlflow_version')"
workload() { "$python" bench/mlflow/workload.py "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "==> MLflow: $runs runs for the search through its own SQL store (not timed); $(uptime)" >&2
workload --url unused --phase fill --runs "$runs" --fill-through-store --store-uri "sqlite:///$work/mlflow.db" \
    > "$work/mlflow-fill.json"
echo "==> starting mlflow server (SQLite) and waiting until it answers and is idle" >&2
port=$(free_port)
"$(dirname "$python")/mlflow" server --backend-store-uri "sqlite:///$work/mlflow.db" \
    --artifacts-destination "$work/mlflow-artifacts" --host 127.0.0.1 --port "$port" > "$work/mlflow.log" 2>&1 &
mlflow_pid=$!
mlflow_url="http://127.0.0.1:$port"
python3 bench/server/idle.py --url "$mlflow_url" --path /health --pid "$mlflow_pid" --warm-up 8 --timeout 600 \
    > "$work/mlflow-startup.json"

echo "==> starting quill serve (release, SQLite) and waiting until it is idle" >&2
start_quill "$quill" "$work/quill.log" --data "$work/quill-data" --local-workers 0
quill_url="$url"
python3 bench/server/idle.py --url "$quill_url" --path /healthz --pid "$server_pid" --warm-up 8 > /dev/null
echo "==> Quill: $runs runs for the search through MLflow's client (not timed); $(uptime)" >&2
workload --url "$quill_url" --phase fill --runs "$runs" > "$work/quill-fill.json"

for tool in mlflow quill; do
    eval "u=\$${tool}_url"
    echo "==> $tool: $points history points through the client (not timed)" >&2
    workload --url "$u" --phase history-fill --points "$points" > "$work/$tool-history-fill.json"
done

phase() { # phase TOOL REPEAT
    local tool="$1" repeat="$2" u exp expected run
    eval "u=\$${tool}_url"
    exp=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["experiment_id"])' "$work/$tool-fill.json")
    expected=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["expected"])' "$work/$tool-fill.json")
    run=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_id"])' "$work/$tool-history-fill.json")
    echo "==> repeat $repeat/$repeats: $tool; $(uptime)" >&2
    {
        workload --url "$u" --phase fluent --steps "$steps"
        workload --url "$u" --phase batch --batches "$batches"
        workload --url "$u" --phase search --experiment "$exp" --expected "$expected" --repeats 1
        workload --url "$u" --phase history --run "$run" --points "$points" --repeats 1
    } > "$work/$tool-$repeat.json"
}

for repeat in $(seq "$repeats"); do
    if [ $((repeat % 2)) = 1 ]; then phase quill "$repeat"; phase mlflow "$repeat"
    else phase mlflow "$repeat"; phase quill "$repeat"; fi
done

echo "==> the client's own cost: the same calls against a server that answers {} at once" >&2
noop_port=$(free_port)
"$python" bench/mlflow/noop_server.py "$noop_port" > "$work/noop.log" 2>&1 &
noop_pid=$!
for _ in $(seq 100); do grep -q listening "$work/noop.log" 2>/dev/null && break; sleep 0.1; done
for repeat in $(seq "$repeats"); do
    workload --url "http://127.0.0.1:$noop_port" --phase noop --steps "$steps" --batches "$batches"
done > "$work/noop.json"
echo "==> the client's own cost of the reads: search and history against a server replaying Quill's answers" >&2
replay_port=$(free_port)
"$python" bench/mlflow/noop_server.py "$replay_port" --replay "$quill_url" > "$work/replay.log" 2>&1 &
replay_pid=$!
for _ in $(seq 100); do grep -q listening "$work/replay.log" 2>/dev/null && break; sleep 0.1; done
exp=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["experiment_id"])' "$work/quill-fill.json")
expected=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["expected"])' "$work/quill-fill.json")
run=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_id"])' "$work/quill-history-fill.json")
replay_url="http://127.0.0.1:$replay_port"
# The first pass records Quill's answers (not counted); then --repeats passes from memory.
workload --url "$replay_url" --phase search --experiment "$exp" --expected "$expected" --repeats 1 > /dev/null
workload --url "$replay_url" --phase history --run "$run" --points "$points" --repeats 1 > /dev/null
{
    workload --url "$replay_url" --phase search --experiment "$exp" --expected "$expected" --repeats "$repeats"
    workload --url "$replay_url" --phase history --run "$run" --points "$points" --repeats "$repeats"
} > "$work/replay.json"

python3 - "$work" "$repeats" "$mlflow_version" "$steps" "$batches" "$runs" "$points" "$out" <<'PY'
import json, statistics, sys
work, repeats, version, steps, batches, runs, points, out = sys.argv[1:9]
repeats, steps, batches, runs, points = int(repeats), int(steps), int(batches), int(runs), int(points)
def rows(path):
    return [json.loads(line) for line in open(path) if line.strip()]
def by_phase(tool):
    got = {}
    for r in range(1, repeats + 1):
        for row in rows(f"{work}/{tool}-{r}.json"):
            got.setdefault(row["phase"], []).append(row)
    return got
q, m = by_phase("quill"), by_phase("mlflow")
noop = rows(f"{work}/noop.json")
fill = {t: json.load(open(f"{work}/{t}-fill.json")) for t in ("quill", "mlflow")}
hfill = {t: json.load(open(f"{work}/{t}-history-fill.json")) for t in ("quill", "mlflow")}
startup = json.load(open(f"{work}/mlflow-startup.json"))
med = statistics.median
lines = [
    ("fluent", f"fluent `mlflow.log_metric` per step, {steps:,} steps", 1),
    ("batch", f"`MlflowClient.log_batch` of 1,000 metrics, {batches} batches", 1),
    ("search", f"`search_runs` over {runs:,} runs (metric and param filter, order_by, pages of 1,000; "
               f"{q['search'][0]['runs_found']:,} runs in {q['search'][0]['pages']} pages)", 1),
    ("history", f"`get_metric_history` of {points:,} points", 1),
]
print(f"mlflow {version} (server: 4 uvicorn workers, SQLite) vs quill serve (release, SQLite, durable); "
      f"{repeats} repeats, medians; ratio = MLflow's time / Quill's, per repeat, then the median")
print("| workload (same client script against each) | Quill s | MLflow s | ratio |")
print("|---|---:|---:|---:|")
result = {}
for key, label, _ in lines:
    qs = [r["seconds"] for r in q[key]]
    ms = [r["seconds"] for r in m[key]]
    ratio = med([b / a for a, b in zip(qs, ms)])
    result[key] = {"quill_s": med(qs), "mlflow_s": med(ms), "ratio": ratio, "quill_all": qs, "mlflow_all": ms}
    print(f"| {label} | {med(qs):.3f} | {med(ms):.3f} | **{ratio:.1f}x** |")
print()
floor_call = med([r["client_log_metric_ms"] for r in noop])
floor_batch = med([r["client_log_batch_ms"] for r in noop])
q_call = result["fluent"]["quill_s"] / steps * 1000
m_call = result["fluent"]["mlflow_s"] / steps * 1000
q_batch = result["batch"]["quill_s"] / batches * 1000
m_batch = result["batch"]["mlflow_s"] / batches * 1000
print("The client's own cost (same calls against a server that answers {} at once), medians:")
print(f"| call | client alone ms | through Quill ms | through MLflow ms | best possible ratio |")
print("|---|---:|---:|---:|---:|")
print(f"| `log_metric` (one call) | {floor_call:.2f} | {q_call:.2f} | {m_call:.2f} | {m_call / floor_call:.1f}x |")
print(f"| `log_batch` of 1,000 metrics | {floor_batch:.1f} | {q_batch:.1f} | {m_batch:.1f} | {m_batch / floor_batch:.1f}x |")
replay = {row["phase"]: row for row in rows(f"{work}/replay.json")}
print()
print("The client's own cost of the reads (the same calls against a server replaying Quill's answers from memory):")
print("| call | client alone s | through Quill s | through MLflow s | best possible ratio |")
print("|---|---:|---:|---:|---:|")
for key, label in (("search", "`search_runs`, every page"), ("history", f"`get_metric_history` of {points:,} points")):
    floor = replay[key]["seconds"]
    result[key]["client_alone_s"] = floor
    print(f"| {label} | {floor:.3f} | {result[key]['quill_s']:.3f} | {result[key]['mlflow_s']:.3f} | "
          f"{result[key]['mlflow_s'] / floor:.1f}x |")
print()
print(f"setup (not timed): search fill Quill {fill['quill']['seconds']:.0f} s through the client, MLflow "
      f"{fill['mlflow']['seconds']:.0f} s through its store; history fill Quill {hfill['quill']['seconds']:.0f} s, "
      f"MLflow {hfill['mlflow']['seconds']:.0f} s; MLflow's server idle {startup['idle_after_s']:.1f} s after start")
loads = [r["load_average"] for t in (q, m) for k in t for r in t[k] if "load_average" in r]
print(f"load average (1 min) at the timed phases: {min(loads):.2f} to {max(loads):.2f}, median {med(loads):.2f}")
if out:
    json.dump({"quill": q, "mlflow": m, "noop": noop, "replay": replay, "fill": fill, "history_fill": hfill, "summary": result},
              open(out, "w"), indent=1)
PY
