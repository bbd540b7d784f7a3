#!/usr/bin/env bash
# Checks the module dependency direction of shared/STYLE.md: QuillCore imports Foundation and swift-crypto
# only; the SDK never imports the CLI, servers or database drivers; the server imports no store backend and
# no blob implementation; QuillClient imports no server, store or CLI module; nothing imports QuillCLI but
# QuillTool. QuillImport (quill import) imports neither the server nor the CLI nor a store backend.
# And the platform rule: only Sources/QuillCore/System/Platform.swift names the C library's module (Glibc,
# Darwin, Musl) or reads the platform-specific `stat` fields; everything else goes through `Platform`.
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
check QuillCore 'Quill|QuillCLI|QuillStore[A-Za-z]*|QuillServer|Logging|ArgumentParser|GRDB|Hummingbird' "the core uses Foundation and swift-crypto only"
if grep -rEn --include="*.swift" "^(@[A-Za-z_]+ )*(public |package |internal )?import " Sources/QuillCore \
    | grep -Ev ":[0-9]+:(@[A-Za-z_]+ )*(public |package |internal )?import (Foundation|Crypto)$" \
    | grep -Ev "^Sources/QuillCore/System/Platform\.swift:[0-9]+:import (Glibc|Darwin)$"; then
    echo "error: Sources/QuillCore imports only Foundation and Crypto (swift-crypto)" >&2
    fail=1
fi
# The wire format is shared by the server and every client: it may know the core, nothing else.
if grep -rEn --include="*.swift" "^(@[A-Za-z_]+ )*(public |package |internal )?import " Sources/QuillAPI \
    | grep -Ev ":[0-9]+:(@[A-Za-z_]+ )*(public |package |internal )?import (Foundation|QuillCore)$"; then
    echo "error: Sources/QuillAPI imports only Foundation and QuillCore (it is the wire format every client shares)" >&2
    fail=1
fi
check Quill 'QuillCLI|QuillServer|QuillStore[A-Za-z]*|GRDB|Hummingbird|PostgresNIO|ArgumentParser' "the SDK links only the core, swift-log and an HTTP client"
check QuillClient 'Quill|QuillCLI|QuillServer|QuillStore[A-Za-z]*|GRDB|PostgresNIO|Hummingbird[A-Za-z]*|NIO[A-Za-z]*|ArgumentParser' "the client speaks HTTP and the wire format; it knows no server, store or CLI module"
check QuillStore 'Quill|QuillCLI|QuillStoreSQLite|QuillStorePostgres|QuillServer|GRDB|PostgresNIO|Hummingbird|ArgumentParser' "the store protocol knows no backend"
check QuillSteps 'Quill|QuillServer|QuillStore[A-Za-z]*|GRDB|Hummingbird|ArgumentParser' "steps need only the core and swift-log, not the SDK"
check QuillServer 'QuillStoreSQLite|QuillStorePostgres|GRDB|GRDBSQLite|PostgresNIO|QuillBlobs' "the server sees only the store protocols (any TrackingStore, any BlobStore); the CLI opens backends"
check QuillJobs 'Quill|QuillCLI|QuillServer|QuillClient|QuillAPI|QuillStoreSQLite|QuillStorePostgres|GRDB|PostgresNIO|Hummingbird|ArgumentParser' "the queue logic and the worker see only the store protocols; the CLI wires backends and HTTP in"
check QuillImport 'QuillCLI|QuillServer|QuillStoreSQLite|QuillStorePostgres|QuillBlobs|Hummingbird|ArgumentParser' "the import readers and the Importer write through the store protocols; the CLI opens the stores"
# QuillBlobs: the file blob store needs only the core, the store protocols, Foundation (+ swift-crypto) and the
# lifecycle (its Service conformance); Synchronization is the standard library's.
if grep -rEn --include="*.swift" "^(@[A-Za-z_]+ )*(public |package |internal )?import " Sources/QuillBlobs \
    | grep -Ev ":[0-9]+:(@[A-Za-z_]+ )*(public |package |internal )?import (Foundation|QuillCore|QuillStore|Crypto|ServiceLifecycle|Synchronization)$"; then
    echo "error: Sources/QuillBlobs imports only Foundation, QuillCore, QuillStore, Crypto, ServiceLifecycle and Synchronization" >&2
    fail=1
fi
for module in Sources/*/; do
    name=$(basename "$module")
    [ "$name" = QuillTool ] || [ "$name" = QuillCLI ] && continue
    check "$name" 'QuillCLI' "only QuillTool imports the CLI"
done
# The platform shim: no other file imports or qualifies by the C library's module, or uses `st_mtim`
# (Linux) / `st_mtimespec` (Darwin) directly.
shim=Sources/QuillCore/System/Platform.swift
platform_uses() {
    grep -rEn "^[[:space:]]*(@[A-Za-z_]+ )*(public |package |internal |fileprivate |private )?import (Glibc|Darwin|Musl)\b|\b(Glibc|Darwin|Musl)\.[a-z_]|\bst_(m|a|c)tim(espec)?\b" \
        Sources Tests bench Examples Benchmarks --include='*.swift' | grep -v "^$shim:" || true
}
if [ -n "$(platform_uses)" ]; then
    platform_uses
    echo "error: only $shim imports Glibc/Darwin or reads st_mtim; use Platform (QuillCore) instead" >&2
    fail=1
fi
# Every import is declared: a module reached only through a dependency (NIOCore through Hummingbird) is an
# undeclared dependency that breaks the day the other package stops exporting it.
python3 scripts/check_declared_imports.py || fail=1
exit $fail
