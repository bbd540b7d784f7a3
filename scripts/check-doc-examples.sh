#!/usr/bin/env bash
# Checks every example in README.md and Docs/*.md: compiles the Swift ones against this package (and runs
# the whole ones), syntax-checks the shell and Python ones, checks each `quill …` command against its
# --help, and runs the examples marked `<!-- example: run -->` against the built `quill`.
# See scripts/doc-examples/check.py for the markers. Expects `swift build` to have built `quill`.
set -euo pipefail
cd "$(dirname "$0")/.."
quill="${QUILL_BIN:-$(swift build --show-bin-path)/quill}"
if [ ! -x "$quill" ]; then
    echo "error: $quill is not built; run \`swift build --product quill\` first" >&2
    exit 1
fi
exec python3 scripts/doc-examples/check.py --repo . --quill "$quill" "$@"
