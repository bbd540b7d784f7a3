#!/usr/bin/env bash
# Quill against Quill: two `quill` binaries (say main's release build and this branch's) under the same load
# generator as run.sh, alternating within each repeat, so a change is measured before and after at the same
# machine load. No MLflow.
#
#   bench/server/compare.sh BEFORE AFTER [--repeats N] [--points N] [--single N] [--durability full|relaxed]
#
# Each repeat starts a fresh `BIN serve --durability MODE` on a new data folder for each binary (the order
# alternates between repeats), waits until it is idle (idle.py) and runs loadgen.py (one run, 50 concurrent
# runs, single points kept-alive and on a new connection, histories); then prints the medians of both side
# by side, their ratio, and the load average at each phase's start.
set -euo pipefail
cd "$(dirname "$0")/../.."
before="$1"
after="$2"
shift 2
repeats=3
points=1000000
single=1000
durability=full
while [ $# -gt 0 ]; do
    case "$1" in
        --repeats) repeats="$2"; shift ;;
        --points) points="$2"; shift ;;
        --single) single="$2"; shift ;;
        --durability) durability="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

source bench/lib.sh
bench_workdir compare

run_one() {  # run_one LABEL BIN REPEAT
    local label="$1" bin="$2" repeat="$3"
    echo "==> repeat $repeat/$repeats: $label ($bin) --durability $durability; $(uptime)" >&2
    start_quill "$bin" "$work/$label-$repeat.log" --data "$work/$label-$repeat" --durability "$durability"
    python3 bench/server/idle.py --url "$url" --path /healthz --pid "$server_pid" --warm-up 16 > /dev/null
    python3 bench/server/loadgen.py --tool quill --url "$url" --points "$points" --single "$single" --history \
        --pid "$server_pid" > "$work/$label-$repeat.json"
    stop_server
    du -sk "$work/$label-$repeat" | cut -f1 > "$work/$label-$repeat.kib"
    rm -rf "$work/$label-$repeat"
}

for repeat in $(seq "$repeats"); do
    if [ $((repeat % 2)) = 1 ]; then
        run_one before "$before" "$repeat"; run_one after "$after" "$repeat"
    else
        run_one after "$after" "$repeat"; run_one before "$before" "$repeat"
    fi
done

python3 - "$work" "$repeats" <<'PY'
import json, statistics, sys
work, repeats = sys.argv[1], int(sys.argv[2])
rows = {label: [json.load(open(f"{work}/{label}-{r}.json")) for r in range(1, repeats + 1)] for label in ("before", "after")}
kib = {label: [int(open(f"{work}/{label}-{r}.kib").read()) for r in range(1, repeats + 1)] for label in ("before", "after")}
med = lambda label, key: statistics.median(row[key] for row in rows[label])
print(f"{repeats} repeats, medians (per repeat in brackets)")
print("| measure | before | after | after / before |")
print("|---|---:|---:|---:|")
for key, label in [
    ("one_run_points_per_s", "points/s, one run, batches of 1,000"),
    ("many_runs_points_per_s", "points/s, 50 concurrent runs"),
    ("single_point_median_ms", "single point, kept-alive, median ms"),
    ("single_point_new_conn_median_ms", "single point, new connection, median ms"),
    ("history_100k_full_ms_median", "full history of 100,000 points, median ms"),
    ("history_1m_downsampled_ms_median", "downsampled history (2,000 points), median ms"),
]:
    b, a = med("before", key), med("after", key)
    fmt = (lambda v: f"{v:,.0f}") if key.endswith("per_s") else (lambda v: f"{v:,.3f}" if v < 10 else f"{v:,.1f}")
    each = lambda name: ", ".join(fmt(row[key]) for row in rows[name])
    print(f"| {label} | {fmt(b)} ({each('before')}) | {fmt(a)} ({each('after')}) | {a / b:.2f} |")
b, a = statistics.median(kib["before"]), statistics.median(kib["after"])
print(f"| data folder after the run, MiB | {b / 1024:,.1f} | {a / 1024:,.1f} | {a / b:.2f} |")
loads = [row[k] for name in rows for row in rows[name] for k in row if k.endswith("load_average")]
print(f"load average (1 min) at the start of the timed phases: {min(loads):.2f} to {max(loads):.2f}, "
      f"median {statistics.median(loads):.2f}")
PY
