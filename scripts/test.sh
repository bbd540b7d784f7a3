#!/usr/bin/env bash
# Runs every test: installs what is missing, builds without warnings, runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Builds (and so checks) the example and benchmark executables too, and lets the steps tests run the example.
export QUILL_EXTRAS=1

./scripts/install-deps.sh
./scripts/check-imports.sh
echo "==> checking format"
swift format lint --strict --recursive Sources Tests Examples bench/peers/QuillPeerBench bench/steps bench/hash
echo "==> building (warnings are errors)"
swift build --build-tests -Xswiftc -warnings-as-errors
echo "==> preparing the interop checks (whirr[server], jsonschema, openapi-spec-validator, schemathesis, selenium from PyPI, in a throwaway virtualenv)"
venv=.build/venv-interop
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import whirr.client, httpx, jsonschema, openapi_spec_validator, schemathesis, selenium" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "whirr[server]==0.5.3" jsonschema openapi-spec-validator schemathesis selenium
fi
export QUILL_TEST_PYTHON="$PWD/$venv/bin/python"
export QUILL_TEST_SCHEMATHESIS="$PWD/$venv/bin/schemathesis"
echo "==> testing"
set +e
# Suites that measure time, or that hold the cooperative thread pool on purpose, run after the rest and one
# test at a time, so the parallel run neither disturbs them nor is disturbed by them. So do the long synchronous
# suites that drive `quill serve`/`quill worker` processes for minutes (jobs): swift-testing runs a synchronous
# test on a thread of the cooperative pool, which has one thread per core, so two of them at once would stall
# every asynchronous test in the process (in-process workers then miss their deadlines).
timed='StepHeartbeatTests|QuillStepsTests\.StepTests/|WriterTests|SlowClientTests|RunEventStreamTests|WriteStallTests|SupervisionTests|RunCommandTests|RunCommandTerminalTests|DatabaseErrorTests|JobCommandsTests|JobRaceTests|RemoteArtifactTests|SweepCommandTests|QueuedRunCommandsTests|WaitCommandTests'
swift test --skip-build --disable-xctest --skip "$timed" 2>&1 | tee .build/test-output.txt | grep --line-buffered -vE '^\[[0-9]+/[0-9]+\] |^◇ Test .* started'
status=${PIPESTATUS[0]}
echo "==> testing the timed suites one test at a time"
swift test --skip-build --disable-xctest --no-parallel --filter "$timed" 2>&1 | tee -a .build/test-output.txt | grep --line-buffered -vE '^\[[0-9]+/[0-9]+\] |^◇ Test .* started'
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
echo "==> testing the dashboard's chart logic (node --test)"
if node --test Tests/Dashboard/ > .build/dashboard-test-output.txt 2>&1; then
    grep -E '^# (tests|pass|fail)' .build/dashboard-test-output.txt
else
    cat .build/dashboard-test-output.txt
    status=1
fi
echo "==> testing the dashboard in headless Chromium (screenshots in .build/browser-screenshots)"
if QUILL_BINARY="$PWD/.build/debug/quill" "$venv/bin/python" Tests/Browser/dashboard_test.py > .build/browser-test-output.txt 2>&1; then
    grep -E ' \.\.\. |^Ran |^OK' .build/browser-test-output.txt
else
    cat .build/browser-test-output.txt
    status=1
fi
echo "==> checking the documented examples (README.md, Docs/*.md)"
./scripts/check-doc-examples.sh || status=1
set -e
exit "$status"
