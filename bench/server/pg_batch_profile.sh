#!/usr/bin/env bash
# Where one batch's time goes on PostgreSQL (issue 15, ingest speed): `quill serve --store postgres://…` takes
# one run's batches of 1,000 points (bench/server/loadgen.py, one connection, each batch sent when the previous
# one was answered) while PostgreSQL logs every statement's duration (`log_min_duration_statement = 0` on the
# bench database only); prints the client's time per batch next to the statements' durations summed per kind,
# and the same run on SQLite (`--durability full`) for reference.
#
#   bench/server/pg_batch_profile.sh --quill PATH --pg-dir DIR [--points 50000]
#
# --pg-dir is a running server of scripts/postgres.sh (`scripts/postgres.sh start DIR PORT`); its log is
# DIR/server.log. Durability stays PostgreSQL's default (`synchronous_commit = on`).
set -euo pipefail
cd "$(dirname "$0")/../.."

quill=""
pg_dir=""
points=50000
while [ $# -gt 0 ]; do
    case "$1" in
        --quill) quill="$2"; shift ;;
        --pg-dir) pg_dir="$2"; shift ;;
        --points) points="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$quill" ] && [ -n "$pg_dir" ] || { echo "usage: $0 --quill PATH --pg-dir DIR [--points N]" >&2; exit 2; }

source bench/lib.sh
bench_workdir pg-batch-profile
pg_url=$(scripts/postgres.sh url "$pg_dir")
pg_base=${pg_url%/postgres}
pg_pid=$(head -1 "$pg_dir/data/postmaster.pid")
database="quill_profile_$$"
trap 'stop_server; psql -qX "$pg_url" -c "DROP DATABASE IF EXISTS $database" || true; rm -rf "$work"' EXIT

echo "==> SQLite (--durability full), $points points; $(uptime)" >&2
start_quill "$quill" "$work/sqlite.log" --data "$work/sqlite" --durability full
python3 bench/server/idle.py --url "$url" --path /healthz --pid "$server_pid" --warm-up 16 > /dev/null
python3 bench/server/loadgen.py --tool quill --url "$url" --points "$points" --runs 0 --single 0 \
    --pid "$server_pid" > "$work/sqlite.json"
stop_server

echo "==> PostgreSQL, $points points; $(uptime)" >&2
psql -qX "$pg_url" -c "CREATE DATABASE $database"
start_quill "$quill" "$work/pg.log" --data "$work/pg" --store "$pg_base/$database"
python3 bench/server/idle.py --url "$url" --path /healthz --pid "$server_pid" --also-pid "$pg_pid" --warm-up 16 \
    > /dev/null
psql -qX "$pg_url" -c "ALTER DATABASE $database SET log_min_duration_statement = 0"
# New connections see the setting: restart the server so its pool reconnects.
stop_server
start_quill "$quill" "$work/pg.log" --data "$work/pg" --store "$pg_base/$database"
python3 bench/server/idle.py --url "$url" --path /healthz --pid "$server_pid" --also-pid "$pg_pid" --warm-up 16 \
    > /dev/null
# From here on the log holds the run's creation and its batches (and what the server does by itself meanwhile),
# not the server's start.
log_start=$(stat -c %s "$pg_dir/server.log")
python3 bench/server/loadgen.py --tool quill --url "$url" --points "$points" --runs 0 --single 0 \
    --pid "$server_pid" --also-pid "$pg_pid" > "$work/pg.json"
stop_server
# Only this database logs every statement (the server is private to the benchmark).
tail -c +"$((log_start + 1))" "$pg_dir/server.log" > "$work/statements.log" 

python3 - "$work" "$points" <<'PY'
import collections, json, re, sys
work, points = sys.argv[1], int(sys.argv[2])
s, p = (json.load(open(f"{work}/{n}.json")) for n in ("sqlite", "pg"))
batches = points // s["batch"]
print(f"client, ms per batch of {s['batch']}: SQLite {1000 * s['batch'] / s['one_run_points_per_s']:.2f}, "
      f"PostgreSQL {1000 * p['batch'] / p['one_run_points_per_s']:.2f} "
      f"({s['one_run_points_per_s']:,.0f} / {p['one_run_points_per_s']:,.0f} points/s)")
kinds = collections.defaultdict(lambda: [0, 0.0])
pattern = re.compile(r"duration: ([0-9.]+) ms\s+(?:statement|execute [^:]*|bind [^:]*|parse [^:]*):\s*(.*)")
for line in open(f"{work}/statements.log", errors="replace"):
    m = pattern.search(line)
    if not m:
        continue
    phase = "parse" if " parse " in line else "bind" if " bind " in line else "execute"
    text = " ".join(m.group(2).split())[:60]
    kinds[(phase, text)][0] += 1
    kinds[(phase, text)][1] += float(m.group(1))
total = 0.0
print(f"PostgreSQL's own time per batch ({batches} batches; statements logged at least {batches // 2} times):")
for (phase, text), (count, ms) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
    if count < batches // 2:
        continue
    total += ms / batches
    print(f"  {ms / batches:7.3f} ms  x{count / batches:.1f}  {phase:7s} {text}")
print(f"  {total:7.3f} ms  in all")
PY
