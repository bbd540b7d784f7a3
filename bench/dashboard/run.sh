#!/usr/bin/env bash
# The dashboard in headless Chromium, timed: a run with 3 metrics of 1,000,000 points (page to all charts
# drawn; zoom into a 1% window redrawn at full resolution), a project of 10,000 runs (first rows; a filter;
# scrolling to the end without blank frames), and 10 runs × 3 metrics of 100,000 points compared. Records
# medians of --repeats and the page weight. Builds `quill` in release; installs Selenium from PyPI into a
# throwaway virtualenv; needs chromium and chromium-driver (scripts/install-deps.sh installs them).
#
#   bench/dashboard/run.sh [--repeats 5] [--out bench/results/dashboard.json]
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product quill >/dev/null
venv="$(mktemp -d /tmp/quill-bench-dashboard-venv.XXXXXX)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check selenium
"$venv/bin/python" bench/dashboard/bench.py --binary .build/release/quill "$@"
