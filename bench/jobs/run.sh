#!/usr/bin/env bash
# Job-queue benchmark: whirr 0.5.3's own server and workers, and Quill's queue, measured by one script.
#
#   bench/jobs/run.sh [--targets whirr,quill,quill-whirr] [--quill-bin PATH] [--skip-build] [jobs_bench.py options]
#
# whirr[server]==0.5.3 is installed from PyPI into a throwaway virtualenv made here and deleted at the end.
# `quill` is built in release unless --skip-build or --quill-bin. Targets: `whirr` (whirr server + whirr
# workers), `quill` (quill serve + quill worker), `quill-whirr` (quill serve's /whirr routes + whirr workers).
# One JSON line per scenario goes to stdout; see jobs_bench.py for the scenarios and their options.
set -euo pipefail

WHIRR_SPEC="${WHIRR_SPEC:-whirr[server]==0.5.3}"
invoked_from="$(pwd)"
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$invoked_from" "$1" ;; esac; }

targets="whirr,quill"
build=1
quill_bin=""
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --targets) targets="${2:?--targets needs a list}"; shift ;;
        --quill-bin) quill_bin="$(absolute "${2:?--quill-bin needs a path}")"; build=0; shift ;;
        --skip-build) build=0 ;;
        --json) args+=(--json "$(absolute "${2:?--json needs a path}")"); shift ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$1") ;;
    esac
    shift
done

cd "$(dirname "$0")/../.."
venv="$(mktemp -d /tmp/quill-bench-jobs-venv.XXXXXX)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$WHIRR_SPEC"

if [ -z "$quill_bin" ]; then
    if [ "$build" = 1 ]; then
        QUILL_EXTRAS=1 swift build -c release --product quill >&2
    fi
    quill_bin="$PWD/.build/release/quill"
fi

IFS=, read -r -a list <<< "$targets"
for target in "${list[@]}"; do
    case "$target" in
        quill|quill-whirr)
            if [ ! -x "$quill_bin" ]; then echo "skipping $target: no quill binary at $quill_bin" >&2; continue; fi ;;
    esac
    "$venv/bin/python" bench/jobs/jobs_bench.py --target "$target" --python "$venv/bin/python" --quill "$quill_bin" \
        ${args[@]+"${args[@]}"}
done
