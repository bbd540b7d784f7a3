#!/usr/bin/env bash
# Server ingest of Quill alone, durable (`--durability full`, the default) against relaxed, with the load
# generator of run.sh (bench/server/loadgen.py): one run in batches of 1,000, 50 concurrent runs, and
# single-point requests one after another (each is one commit, so one sync when durable).
#
#   bench/server/durability.sh [--skip-build] [--repeats N] [--points N] [--single N] [--quill PATH]
#
# Each repeat starts a fresh `quill serve` (release build) per mode on a new data folder under /tmp (the data
# folder's file system decides what a sync costs), and each timed phase starts once the server is idle
# (bench/server/idle.py). Prints medians over the repeats.
set -euo pipefail
cd "$(dirname "$0")/../.."
export QUILL_EXTRAS=1  # keeps the package plan (and the build folder) the one the other scripts use

build=1
repeats=3
points=200000
single=1000
quill=""
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --repeats) repeats="$2"; shift ;;
        --points) points="$2"; shift ;;
        --single) single="$2"; shift ;;
        --quill) quill="$2"; build=0; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$build" = 1 ]; then
    echo "==> building quill (release)" >&2
    swift build -c release --product quill >&2
fi
if [ -z "$quill" ]; then quill="$(swift build -c release --show-bin-path)/quill"; fi

source bench/lib.sh  # the working directory is the repository root (cd above)
bench_workdir durability

for repeat in $(seq "$repeats"); do
    for mode in full relaxed; do
        echo "==> repeat $repeat/$repeats: quill serve --durability $mode" >&2
        start_quill "$quill" "$work/$mode-$repeat.log" --data "$work/$mode-$repeat" --durability "$mode"
        python3 bench/server/idle.py --url "$url" --path /healthz --pid "$server_pid" > /dev/null
        python3 bench/server/loadgen.py --tool quill --url "$url" --points "$points" --single "$single" \
            --pid "$server_pid" > "$work/$mode-$repeat.json"
        stop_server
        rm -rf "$work/$mode-$repeat"
        cat "$work/$mode-$repeat.json" >&2
    done
done

python3 - "$work" "$repeats" <<'PY'
import json, statistics, sys
work, repeats = sys.argv[1], int(sys.argv[2])
rows = {mode: [json.load(open(f"{work}/{mode}-{r}.json")) for r in range(1, repeats + 1)] for mode in ("full", "relaxed")}
med = lambda mode, key: statistics.median(row[key] for row in rows[mode])
print(f"{repeats} repeats; medians")
print("| measure | durable (`full`, default) | `relaxed` |")
print("|---|---:|---:|")
first = rows["full"][0]
print(f"| points/s, one run, batches of {first['batch']:,} ({first['points']:,} points) | {med('full', 'one_run_points_per_s'):,.0f} | {med('relaxed', 'one_run_points_per_s'):,.0f} |")
print(f"| points/s, {first['many_runs']} concurrent runs ({first['many_runs_points']:,} points) | {med('full', 'many_runs_points_per_s'):,.0f} | {med('relaxed', 'many_runs_points_per_s'):,.0f} |")
print(f"| single-point requests one after another, median ms | {med('full', 'single_point_median_ms'):.3f} | {med('relaxed', 'single_point_median_ms'):.3f} |")
print(f"| single-point requests, p99 ms | {med('full', 'single_point_p99_ms'):.3f} | {med('relaxed', 'single_point_p99_ms'):.3f} |")
print(f"| single-point requests, a new connection each, median ms | {med('full', 'single_point_new_conn_median_ms'):.3f} | {med('relaxed', 'single_point_new_conn_median_ms'):.3f} |")
PY
