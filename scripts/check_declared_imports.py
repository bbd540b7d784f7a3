#!/usr/bin/env python3
"""Every module imports only what its target declares in Package.swift.

SwiftPM lets a target import a module it reaches only through a dependency (NIOCore through Hummingbird,
GRDB through a store backend), so the dependency graph in Package.swift can silently stop being true. This
reads the manifest (`swift package dump-package`, with QUILL_EXTRAS=1 so the bench and example targets are
in it) and checks each target's `import` lines against its own dependencies and the toolchain's modules.
"""
import json
import os
import re
import subprocess
import sys

# Modules every target may import: the toolchain's, not packages'.
TOOLCHAIN = {
    "Foundation", "FoundationEssentials", "FoundationNetworking", "Dispatch", "Synchronization", "Testing",
    "XCTest", "_Concurrency", "Observation", "RegexBuilder", "Glibc", "Darwin", "Musl", "os",
}
# Product names that differ from the module they provide.
PRODUCT_MODULES: dict[str, list[str]] = {}

IMPORT = re.compile(r"^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*(?:public |package |internal |fileprivate |private )?"
                    r"import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def main() -> int:
    env = dict(os.environ, QUILL_EXTRAS="1")
    manifest = json.loads(subprocess.check_output(["swift", "package", "dump-package"], env=env))
    failures = []
    for target in manifest["targets"]:
        name = target["name"]
        default = {"test": "Tests", "regular": "Sources", "executable": "Sources"}.get(target["type"], "Sources")
        path = target.get("path") or f"{default}/{name}"
        allowed = set(TOOLCHAIN) | {name}
        for dependency in target["dependencies"]:
            kind, value = next(iter(dependency.items()))
            module = value[0]
            allowed.update(PRODUCT_MODULES.get(module, [module]) if kind == "product" else [module])
        for root, _, files in os.walk(path):
            for file in sorted(files):
                if not file.endswith(".swift"):
                    continue
                full = os.path.join(root, file)
                with open(full, encoding="utf-8") as handle:
                    in_string = False  # inside a multi-line string literal (a Python script in a test)
                    for number, line in enumerate(handle, 1):
                        match = None if in_string else IMPORT.match(line)
                        if line.count('"""') % 2 == 1:
                            in_string = not in_string
                        if match and match.group(1) not in allowed:
                            failures.append(f"{full}:{number}: {name} imports {match.group(1)}, "
                                            f"which its target does not declare; add it to {name}'s "
                                            "dependencies in Package.swift or drop the import")
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
