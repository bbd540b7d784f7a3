#!/usr/bin/env bash
# Throughput of one vs several `quill serve` replicas sharing one PostgreSQL database (issue 15), side by side in
# one run, phases interleaved (1, 3, then 3, 1, ...), a fresh database per phase.
#
#   bench/replicas/run.sh [--skip-build] [--quill PATH] [--pg URL] [--repeats N] [--replicas "1 3"]
#                         [-- replicas.py options: --runs N --batches N --batch N --readers N --reads N]
#
# --pg is the server's admin URL (default: the private benchmark server, postgres://postgres@127.0.0.1:55442/postgres;
# start one with `scripts/postgres.sh start /tmp/quill-pg-bench 55442`). Each phase creates the database
# quill_replicas_N_R on it, runs `quill db migrate`, starts N `quill serve --store postgres://…/quill_replicas_N_R`
# on free ports (one data folder each, no local worker), waits until each answers /healthz, runs the workload of
# bench/replicas/replicas.py spread round-robin over them, stops them and drops the database. Prints a Markdown
# table of medians over the repeats; the raw JSON of each phase stays in the work folder (printed at the end).
set -euo pipefail
cd "$(dirname "$0")/../.."

build=1
quill=""
pg="postgres://postgres@127.0.0.1:55442/postgres"
repeats=3
counts="1 3"
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --quill) quill="$2"; build=0; shift ;;
        --pg) pg="$2"; shift ;;
        --repeats) repeats="$2"; shift ;;
        --replicas) counts="$2"; shift ;;
        --) shift; break ;;
        *) echo "usage: bench/replicas/run.sh [--skip-build] [--quill PATH] [--pg URL] [--repeats N] [--replicas \"1 3\"] [-- loadgen options]" >&2; exit 2 ;;
    esac
    shift
done
export QUILL_EXTRAS=1
if [ "$build" = 1 ]; then
    echo "==> building quill (release)" >&2
    swift build -c release --product quill >&2
fi
if [ -z "$quill" ]; then quill="$(swift build -c release --show-bin-path)/quill"; fi

work="$(mktemp -d /tmp/quill-bench-replicas.XXXXXX)"
pids=()
stop_replicas() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
}
trap stop_replicas EXIT

base="${pg%/*}"
export PGOPTIONS="-c client_min_messages=warning"
phase() {  # phase N REPEAT
    local n="$1" repeat="$2" db="quill_replicas_$1_$2"
    local store="$base/$db" urls=""
    shift 2
    psql -q "$pg" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
    "$quill" db migrate --store "$store" >"$work/migrate-$n-$repeat.log" 2>&1
    for ((i = 0; i < n; i++)); do
        local log="$work/serve-$n-$repeat-$i.log"
        "$quill" serve --store "$store" --data "$work/data-$n-$repeat-$i" --host 127.0.0.1 --port 0 \
            --local-workers 0 >"$log" 2>&1 &
        pids+=($!)
        for _ in $(seq 300); do grep -q "listening" "$log" 2>/dev/null && break; sleep 0.1; done
        local url
        url="http://$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1)"
        if [ "$url" = "http://" ]; then echo "error: replica $i did not start; see $log" >&2; exit 1; fi
        for _ in $(seq 300); do curl -fs "$url/healthz" >/dev/null && break; sleep 0.1; done
        urls="${urls:+$urls,}$url"
    done
    echo "==> repeat $repeat/$repeats: $n replica(s) on $db; $(uptime)" >&2
    python3 bench/replicas/replicas.py --urls "$urls" "$@" >"$work/phase-$n-$repeat.json"
    cat "$work/phase-$n-$repeat.json" >&2
    stop_replicas
    psql -q "$pg" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    rm -rf "$work"/data-"$n"-"$repeat"-*
}

read -ra order <<<"$counts"
for ((repeat = 1; repeat <= repeats; repeat++)); do
    if ((repeat % 2 == 1)); then
        for n in "${order[@]}"; do phase "$n" "$repeat" "$@"; done
    else
        for ((k = ${#order[@]} - 1; k >= 0; k--)); do phase "${order[$k]}" "$repeat" "$@"; done
    fi
done

python3 - "$work" "$repeats" "$counts" <<'EOF'
import json, statistics, sys
work, repeats, counts = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
rows = []
for n in counts:
    phases = [json.load(open(f"{work}/phase-{n}-{r}.json")) for r in range(1, repeats + 1)]
    med = lambda key: statistics.median(p[key] for p in phases)
    rows.append((n, med("requests_per_s"), med("points_per_s"), med("write_p50_ms"), med("write_p99_ms"),
                 med("read_p50_ms"), med("read_p99_ms"), med("wall_s"), sum(p["failures"] for p in phases),
                 [p["load_average"] for p in phases], med("client_cpu_s")))
first = phases[0]
print(f"workload: {first['runs']} runs x {first['batches']} batches of {first['batch']} points, "
      f"{first['readers']} readers x {first['reads']} reads; medians of {repeats} repeats")
print()
print("| replicas | requests/s | points/s | write p50 ms | write p99 ms | read p50 ms | read p99 ms | wall s | failures | load avg (per repeat) | client CPU s |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
for n, rps, pps, w50, w99, r50, r99, wall, failures, loads, cpu in rows:
    print(f"| {n} | {rps:.1f} | {pps:,.0f} | {w50:.1f} | {w99:.1f} | {r50:.1f} | {r99:.1f} | {wall:.1f} | {failures} | "
          f"{', '.join(f'{l:.1f}' for l in loads)} | {cpu:.1f} |")
EOF
echo "raw results: $work" >&2
