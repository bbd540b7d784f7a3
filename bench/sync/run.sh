#!/usr/bin/env bash
# `quill sync` of a large local run through the SDK's own upload path (RunUploader), timed end to end.
#
#   bench/sync/run.sh [--skip-build] [--points N] [--keys K (1-4)] [--repeats N] [--client BIN] [--server BIN]
#                     [--ingest] [--compare BIN]
#
# Builds release `quill`, records a short run with `quill demo`, replaces its metrics.jsonl with N points
# (default 1,000,000: N/K rows of K metrics, K = 4 by default, each row with a step, an `_idx` and a
# timestamp, values written by Python's repr, some NaN/Infinity; --keys 1 is the shape of
# bench/server/loadgen.py, one metric per point), then per repeat starts a fresh `quill serve` on an empty data
# directory and a free port, removes the run's sync.json, and times `quill sync RUN --server URL`.
# Prints each time (with the client's CPU time) and the median, in points/s. --client/--server pick other
# binaries (e.g. an older build as the client, to compare uploaders against the same server). With --ingest,
# each repeat is followed by the server's own one-run batch ingest of the same number of points on another
# fresh server (bench/server/loadgen.py, batches of 1,000 one-key points, the server's default durability),
# and its median is printed beside the sync's, so both come from the same minutes of the same machine.
# With --compare BIN, each repeat first times BIN as the client (same server binary, its own fresh server),
# so the two uploaders alternate and share the machine's load; both medians are printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
export QUILL_EXTRAS=1

build=1
points=1000000
keys=4
repeats=5
ingest=0
compare=""
client=""
server=""
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --points) points="$2"; shift ;;
        --keys) keys="$2"; shift ;;
        --repeats) repeats="$2"; shift ;;
        --client) client="$2"; shift ;;
        --server) server="$2"; shift ;;
        --ingest) ingest=1 ;;
        --compare) compare="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$build" = 1 ]; then
    echo "==> building quill (release)" >&2
    swift build -c release --product quill >&2
fi
if [ -z "$client" ] || [ -z "$server" ]; then
    quill="$(swift build -c release --show-bin-path)/quill"
    client="${client:-$quill}"
    server="${server:-$quill}"
fi

source bench/lib.sh  # the working directory is the repository root (cd above)
bench_workdir sync
unset QUILL_TRACKING_URI QUILL_API_KEY

echo "==> recording a run of $points points, $keys per row" >&2
"$client" demo --home "$work/home" --project bench --name big --steps 1 --delay-ms 0 > /dev/null
run_dir="$(dirname "$(find "$work/home" -name metrics.jsonl | head -1)")"
python3 - "$run_dir/metrics.jsonl" "$points" "$keys" <<'PY'
import json, math, random, sys
path, points, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(7)
rows = points // keys
with open(path, "w") as out:
    for i in range(rows):
        loss = 2.5 * math.exp(-i / 50000) + random.random() * 0.01
        values = [loss, random.random(), 1e-3 * (1 - i / rows), random.lognormvariate(0, 1)][:keys]
        if i % 10007 == 0:
            values[-1] = float("nan")
        if i % 20011 == 0:
            values[-1] = float("inf")
        fields = ",".join(
            f'"{k}":{json.dumps(v) if math.isfinite(v) else json.dumps(str(v).replace("nan", "NaN").replace("inf", "Infinity"))}'
            for k, v in zip(("loss", "acc", "lr", "grad_norm"), values))
        out.write(f'{{"_idx":{i},"_timestamp":"2026-11-29T12:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}000Z","step":{i},{fields}}}\n')
PY
echo "metrics.jsonl: $(du -h "$run_dir/metrics.jsonl" | cut -f1)" >&2

times=()
rates=()
others=()
for repeat in $(seq "$repeats"); do
    if [ -n "$compare" ]; then
        rm -f "$run_dir/sync.json"
        start_quill "$server" "$work/serve-other-$repeat.log" --data "$work/data-other-$repeat"
        start=$(date +%s.%N)
        /usr/bin/time -f "%U %S" -o "$work/cpu-other-$repeat" "$compare" sync big --home "$work/home" --server "$url" --json > /dev/null
        end=$(date +%s.%N)
        stop_server
        rm -rf "$work/data-other-$repeat"
        seconds=$(python3 -c "print(f'{$end - $start:.3f}')")
        others+=("$seconds")
        cpu=$(awk '{printf "%.2f s user, %.2f s sys", $1, $2}' "$work/cpu-other-$repeat")
        echo "repeat $repeat: compared client $seconds s, client CPU $cpu, load $(cut -d' ' -f1 /proc/loadavg)" >&2
    fi
    rm -f "$run_dir/sync.json"
    start_quill "$server" "$work/serve-$repeat.log" --data "$work/data-$repeat"
    start=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$work/cpu-$repeat" "$client" sync big --home "$work/home" --server "$url" --json > "$work/sync-$repeat.json"
    end=$(date +%s.%N)
    stop_server
    rm -rf "$work/data-$repeat"
    written=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0].get("points_written", "?"))' "$work/sync-$repeat.json")
    seconds=$(python3 -c "print(f'{$end - $start:.3f}')")
    times+=("$seconds")
    cpu=$(awk '{printf "%.2f s user, %.2f s sys", $1, $2}' "$work/cpu-$repeat")
    echo "repeat $repeat: $seconds s, points written $written, client CPU $cpu, load $(cut -d' ' -f1 /proc/loadavg)" >&2
    if [ "$ingest" = 1 ]; then
        start_quill "$server" "$work/ingest-$repeat.log" --data "$work/ingest-$repeat"
        rate=$(python3 bench/server/loadgen.py --tool quill --url "$url" --points "$points" --runs 1 --many-points 1000 \
            --single 10 | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["one_run_points_per_s"]))')
        stop_server
        rm -rf "$work/ingest-$repeat"
        rates+=("$rate")
        echo "repeat $repeat: server batch ingest $rate points/s" >&2
    fi
done
python3 - "$points" "${times[*]}" "${rates[*]}" "${others[*]}" <<'PY'
import statistics, sys
points = int(sys.argv[1])
others = [float(t) for t in sys.argv[4].split()]
if others:
    median = statistics.median(others)
    print(f"compared client, {points} points: " + " / ".join(f"{t:.3f} s" for t in others)
          + f"; median {median:.3f} s, {points / median:,.0f} points/s")
times = [float(t) for t in sys.argv[2].split()]
median = statistics.median(times)
print(f"quill sync, {points} points: " + " / ".join(f"{t:.3f} s" for t in times)
      + f"; median {median:.3f} s, {points / median:,.0f} points/s")
rates = [int(r) for r in sys.argv[3].split()]
if rates:
    print("server batch ingest, one run: " + " / ".join(f"{r:,}" for r in rates)
          + f"; median {statistics.median(rates):,.0f} points/s")
PY
