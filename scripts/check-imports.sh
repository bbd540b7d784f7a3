#!/usr/bin/env bash
# Checks the module dependency direction of shared/STYLE.md: QuillCore imports Foundation only; the SDK
# never imports the CLI, servers or database drivers; nothing imports QuillCLI but QuillTool.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
check() { # module, forbidden-regex, reason
    if grep -rEn "^(@testable )?(public |package )?import ($2)\b" "Sources/$1" >/dev/null 2>&1; then
        grep -rEn "^(@testable )?(public |package )?import ($2)\b" "Sources/$1"
        echo "error: Sources/$1 must not import $2 ($3)" >&2
        fail=1
    fi
}
check QuillCore 'Quill|QuillCLI|QuillStore[A-Za-z]*|QuillServer|Logging|ArgumentParser|GRDB|Hummingbird' "the core uses Foundation only"
check Quill 'QuillCLI|QuillServer|QuillStore[A-Za-z]*|GRDB|Hummingbird|PostgresNIO|ArgumentParser' "the SDK links only the core, swift-log and an HTTP client"
check QuillStore 'Quill|QuillCLI|QuillStoreSQLite|QuillStorePostgres|QuillServer|GRDB|PostgresNIO|Hummingbird|ArgumentParser' "the store protocol knows no backend"
check QuillSteps 'Quill|QuillServer|QuillStore[A-Za-z]*|GRDB|Hummingbird|ArgumentParser' "steps need only the core and swift-log, not the SDK"
for module in Sources/*/; do
    name=$(basename "$module")
    [ "$name" = QuillTool ] || [ "$name" = QuillCLI ] && continue
    check "$name" 'QuillCLI' "only QuillTool imports the CLI"
done
exit $fail
