#!/usr/bin/env bash
# Quill vs whirr vs expman-rs: logging throughput, memory and SIGKILL survival, side by side in one run.
#
#   bench/peers/run.sh [--skip-build] [any option of `peers.py compare`: --steps N --repeats R --memory-steps N --out FILE]
#
# The peers are installed from PyPI into a throwaway virtualenv that is deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=1
args=()
for arg in "$@"; do
    if [ "$arg" = "--skip-build" ]; then build=0; else args+=("$arg"); fi
done

if [ "$build" = 1 ]; then
    echo "==> building quill-peer-bench (release)" >&2
    swift build -c release --product quill-peer-bench >&2
fi
quill_bin="$(swift build -c release --show-bin-path)/quill-peer-bench"

venv="$(mktemp -d /tmp/quill-peers-venv.XXXXXX)"
trap 'rm -rf "$venv"' EXIT
echo "==> installing whirr and expman-rs into a throwaway virtualenv" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check whirr expman-rs
"$venv/bin/pip" freeze --disable-pip-version-check | grep -iE '^(whirr|expman)' >&2

echo "==> running (machine: $(nproc) cores, $(uname -r))" >&2
"$venv/bin/python" bench/peers/peers.py compare --quill-bin "$quill_bin" "${args[@]}"
