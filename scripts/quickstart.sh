#!/usr/bin/env bash
# Sets Quill up on a fresh machine and shows it working: installs what is missing, builds the `quill`
# command, records a demo run and lists the runs.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
echo "==> building quill (the first build fetches and compiles dependencies: a few minutes)"
swift build --product quill
bin="$(swift build --show-bin-path)/quill"
echo "==> recording a demo run into ${QUILL_HOME:-$HOME/.quill}"
"$bin" demo
echo "==> runs"
"$bin" runs
echo
echo "quill is at $bin; put it on your PATH, e.g.: export PATH=\"$(dirname "$bin"):\$PATH\""
