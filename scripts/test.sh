#!/usr/bin/env bash
# Runs every test: installs what is missing, builds without warnings, runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
./scripts/check-imports.sh
echo "==> checking format"
swift format lint --strict --recursive Sources Tests bench/peers/QuillPeerBench
echo "==> building (warnings are errors)"
swift build --build-tests -Xswiftc -warnings-as-errors
echo "==> testing"
set +e
swift test --skip-build 2>&1 | tee .build/test-output.txt | grep --line-buffered -vE '^\[[0-9]+/[0-9]+\] |^Test Case .* (started|passed)|^􀟈 Test .* started'
status=${PIPESTATUS[0]}
set -e
exit "$status"
