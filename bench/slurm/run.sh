#!/usr/bin/env bash
# SLURM overhead (issue 16): a trivial job (`true`) from submission to completion, through Quill
# (`quill submit --executor slurm` + `quill wait`, a `quill serve` and a `quill worker --executor slurm`) and
# with plain `sbatch --wait`, interleaved, on a private one-node cluster (scripts/slurm.sh, ports 6957/6958) so
# nobody else's jobs queue in front. Prints every measurement, the load average at each, and the medians.
#
#   bench/slurm/run.sh [--repeats N] [--quill-bin PATH | --skip-build]
#
# `quill` is built in release (`swift build -c release --product quill`) unless --skip-build or --quill-bin.
set -euo pipefail

repeats=7
build=1
quill_bin=""
invoked_from="$(pwd)"
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$invoked_from" "$1" ;; esac; }
while [ $# -gt 0 ]; do
    case "$1" in
        --repeats) repeats="${2:?--repeats needs a number}"; shift ;;
        --quill-bin) quill_bin="$(absolute "${2:?--quill-bin needs a path}")"; build=0; shift ;;
        --skip-build) build=0 ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

cd "$(dirname "$0")/../.."
if [ -z "$quill_bin" ]; then
    if [ "$build" = 1 ]; then QUILL_EXTRAS=1 swift build -c release --product quill >&2; fi
    quill_bin="$PWD/.build/release/quill"
fi
# shellcheck source=../lib.sh
source bench/lib.sh
bench_workdir slurm
cluster="$work/cluster"
worker_pid=""
cleanup() {
    [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
    stop_server
    ./scripts/slurm.sh stop "$cluster"
    rm -rf "$work"
}
trap cleanup EXIT
SLURM_CONF=$(./scripts/slurm.sh start "$cluster" "${BENCH_SLURM_PORTS_CTLD:-6957}" "${BENCH_SLURM_PORTS_SLURMD:-6958}")
export SLURM_CONF QUILL_HOME="$work/home"
start_quill "$quill_bin" "$work/serve.log" --data "$work/data" --local-workers 0
"$quill_bin" worker --server "$url" --name bench --executor slurm --runs-dir "$work/runs" > "$work/worker.log" 2>&1 &
worker_pid=$!
sleep 2

now() { date +%s.%N; }
load() { cut -d' ' -f1 /proc/loadavg; }
mkdir -p "$work/sbatch"
plain=()
quill=()
for i in $(seq 1 "$repeats"); do
    start=$(now)
    (cd "$work/sbatch" && sbatch --wait --quiet --mem=50M --wrap true >/dev/null)
    end=$(now)
    plain+=("$(echo "$end - $start" | bc)")
    echo "repeat $i: sbatch --wait: ${plain[-1]} s (load $(load))"
    start=$(now)
    id=$("$quill_bin" submit --server "$url" --json --executor slurm --mem 50M -- true | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    "$quill_bin" wait --server "$url" "$id" >/dev/null
    end=$(now)
    quill+=("$(echo "$end - $start" | bc)")
    echo "repeat $i: quill submit + wait: ${quill[-1]} s (load $(load))"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mp=$(median "${plain[@]}")
mq=$(median "${quill[@]}")
echo "median sbatch --wait: $mp s; median quill submit --executor slurm + quill wait: $mq s; Quill adds $(echo "$mq - $mp" | bc) s"
