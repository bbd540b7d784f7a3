#!/usr/bin/env bash
# Installs the system packages Quill's build and tests need, when they are missing (Debian 12; run as root).
set -euo pipefail

need=()
command -v git >/dev/null 2>&1 || need+=(git)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v curl >/dev/null 2>&1 || need+=(curl)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
# The dashboard's chart logic is tested with Node's own test runner (no npm).
command -v node >/dev/null 2>&1 || need+=(nodejs)
# The dashboard's browser tests drive Debian's headless Chromium through its WebDriver.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
# The PostgreSQL store's tests run against a real server that scripts/postgres.sh starts (issue 15).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# The SLURM tests (issue 16) run jobs on a real one-node cluster that scripts/slurm.sh starts.
{ command -v slurmctld >/dev/null 2>&1 || [ -x /usr/sbin/slurmctld ]; } || need+=(slurm-wlm)
command -v munge >/dev/null 2>&1 || need+=(munge)
# scripts/test.sh dumps the threads of a test process that hangs past its phase's limit with gdb.
command -v gdb >/dev/null 2>&1 || need+=(gdb)
# GRDB (the embedded SQLite store) builds against the system SQLite.
[ -e /usr/include/sqlite3.h ] || need+=(libsqlite3-dev)

if ! command -v swift >/dev/null 2>&1; then
    echo "error: no Swift toolchain on PATH; install Swift 6.2 or later (https://swift.org/install) and re-run" >&2
    exit 1
fi

if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: missing packages: ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
        exit 1
    fi
    echo "==> installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
