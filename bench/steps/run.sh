#!/usr/bin/env bash
# Cached steps, Quill vs joblib.Memory: the cost of one call on a warm cache (hit) and on a miss whose
# computation writes (at most) one tiny file, side by side in one run.
#
#   bench/steps/run.sh [--skip-build] [--quill-bin PATH] [--n 2000] [--warmup 50] [--repeats 5] [--out FILE]
#
# joblib is installed from PyPI into a throwaway virtualenv made here and deleted at the end. Quill's side
# is the release build of `quill-steps-bench` (built here unless --skip-build). Each repeat runs both tools
# once, each in a fresh process and a fresh temporary root, alternating which goes first; the table gives
# the median over repeats of each per-call statistic, and joblib / Quill ratios.
# The Markdown report goes to stdout, progress to stderr; --out FILE also writes every measurement as JSON.
set -euo pipefail

JOBLIB_SPEC="${JOBLIB_SPEC:-joblib==1.6.0}"

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

invoked_from="$(pwd)"
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$invoked_from" "$1" ;; esac; }

build=1
quill_bin=""
n=2000
warmup=50
repeats=5
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --quill-bin) quill_bin="$(absolute "${2:?--quill-bin needs a path}")"; shift ;;
        --quill-bin=*) quill_bin="$(absolute "${1#*=}")" ;;
        --n) n="${2:?--n needs a number}"; shift ;;
        --n=*) n="${1#*=}" ;;
        --warmup) warmup="${2:?--warmup needs a number}"; shift ;;
        --warmup=*) warmup="${1#*=}" ;;
        --repeats) repeats="${2:?--repeats needs a number}"; shift ;;
        --repeats=*) repeats="${1#*=}" ;;
        --out) out="$(absolute "${2:?--out needs a path}")"; shift ;;
        --out=*) out="$(absolute "${1#*=}")" ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

cd "$(dirname "$0")/../.."
repo="$(pwd)"
# The benchmark executables are part of the package only when QUILL_EXTRAS is set (see Package.swift).
export QUILL_EXTRAS=1

# ---------------------------------------------------------------- Quill's release binary
if [ -z "$quill_bin" ]; then
    if [ "$build" = 1 ]; then
        echo "==> building quill-steps-bench (release)" >&2
        swift build -c release --product quill-steps-bench >&2
    fi
    quill_bin="$(swift build -c release --show-bin-path)/quill-steps-bench"
fi
if [ ! -x "$quill_bin" ]; then
    echo "*** quill-steps-bench not found at $quill_bin (run without --skip-build) ***" >&2
    exit 1
fi
newer="$(find "$repo/Sources" "$repo/bench/steps/QuillStepsBench" "$repo/Package.swift" -newer "$quill_bin" -type f 2>/dev/null | head -1 || true)"
if [ -n "$newer" ]; then
    echo "note: $quill_bin is older than $newer (run without --skip-build to rebuild)" >&2
fi

[ -z "$out" ] || mkdir -p "$(dirname "$out")"

# ---------------------------------------------------------------- throwaway virtualenv with joblib
work="$(mktemp -d "${TMPDIR:-/tmp}/quill-steps-venv.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
echo "==> installing $JOBLIB_SPEC from PyPI into a throwaway virtualenv ($work)" >&2
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$JOBLIB_SPEC" >&2

# ---------------------------------------------------------------- interleaved runs
echo "==> running $repeats repeats of n=$n calls each ($(nproc) cores, Linux $(uname -r))" >&2
results="$work/results.jsonl"
: >"$results"
run_quill() { "$quill_bin" --n "$n" --warmup "$warmup" >>"$results"; }
run_joblib() { "$work/venv/bin/python" "$repo/bench/steps/joblib_bench.py" --n "$n" --warmup "$warmup" >>"$results"; }
for repeat in $(seq 1 "$repeats"); do
    if [ $((repeat % 2)) = 1 ]; then order="quill joblib"; else order="joblib quill"; fi
    for tool in $order; do
        echo "    repeat $repeat/$repeats: $tool" >&2
        "run_$tool"
    done
done

swift_version="$(swift --version 2>/dev/null | head -1 || true)"
"$work/venv/bin/python" - "$results" "$out" "$swift_version" "$(nproc)" "$(uname -r)" "$*" <<'PY'
import datetime, json, statistics, sys

results_path, out_path, swift_version, cores, kernel, _ = sys.argv[1:7]
runs = [json.loads(line) for line in open(results_path) if line.strip()]
tools = ["quill", "joblib"]
stats = ["median_us", "p90_us", "p99_us"]
summary = {}
for tool in tools:
    mine = [run for run in runs if run["tool"] == tool]
    summary[tool] = {
        case: {stat: statistics.median(run[case][stat] for run in mine) for stat in stats + ["mean_us"]}
        for case in ("hit", "miss")
    }
    summary[tool]["repeats"] = len(mine)
joblib_version = next((run.get("version") for run in runs if run["tool"] == "joblib"), "?")
python_version = next((run.get("python") for run in runs if run["tool"] == "joblib"), "?")
n = runs[0]["n"] if runs else 0

def fmt(us):
    return f"{us:,.1f}" if us < 100 else f"{us:,.0f}"

print(f"n = {n:,} calls per case per run, {summary['quill']['repeats']} repeats, medians over repeats")
print(f"({swift_version}; Python {python_version}, joblib {joblib_version}; {cores} cores, Linux {kernel})")
print()
print("| case | tool | median µs | p90 µs | p99 µs |")
print("|---|---|---:|---:|---:|")
for case, label in (("hit", "hit (warm cache)"), ("miss", "miss (tiny create)")):
    for tool in tools:
        row = summary[tool][case]
        print(f"| {label} | {tool} | {fmt(row['median_us'])} | {fmt(row['p90_us'])} | {fmt(row['p99_us'])} |")
print()
print("| case | joblib / Quill, median | p90 | p99 |")
print("|---|---:|---:|---:|")
ratios = {}
for case in ("hit", "miss"):
    ratios[case] = {stat: summary["joblib"][case][stat] / summary["quill"][case][stat] for stat in stats}
    cells = " | ".join(f"{ratios[case][stat]:.2f}×" for stat in stats)
    print(f"| {case} | {cells} |")
print()
hit = summary["quill"]["hit"]["median_us"]
print(f"Goal: a warm hit under 200 µs per loadOrCreate: {'met' if hit < 200 else 'NOT met'} "
      f"(median {fmt(hit)} µs, p99 {fmt(summary['quill']['hit']['p99_us'])} µs).")
if out_path:
    with open(out_path, "w") as handle:
        json.dump({
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "swift": swift_version, "python": python_version, "joblib": joblib_version,
            "cores": int(cores), "kernel": kernel, "n": n,
            "summary": summary, "ratios_joblib_over_quill": ratios, "runs": runs,
        }, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(f"\n(wrote {out_path})", file=sys.stderr)
PY
