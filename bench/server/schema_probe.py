"""A proposal's measure, SQLite alone: points keyed by (run id text, key text, idx), as the store's `metrics`
table was before migration v12, against points keyed by an integer series id ((run, key) -> id in a small
table), as it is since, and the same with a foreign key checked on every point (which v12 avoids).

  python3 bench/server/schema_probe.py [--points 300000] [--batch 1000] [--rounds 3]

All layouts are WITHOUT ROWID with the same step index, in WAL mode with `synchronous = FULL` and
`foreign_keys = ON`, one transaction (one sync) per batch of --batch points, on new files under /tmp; the
rounds alternate the layouts.
Prints points/s and the file size. Python's sqlite3 drives both
the same way (executemany), so the difference is SQLite's B-tree work and page count, not the driver's.
Standard library only.
"""
import argparse
import os
import sqlite3
import statistics
import tempfile
import time
import uuid

LAYOUTS = {
    "text keys (run_id, key, idx)": (
        """CREATE TABLE metrics (run_id TEXT NOT NULL, key TEXT NOT NULL, idx INTEGER NOT NULL,
               step INTEGER NOT NULL, value REAL, ts INTEGER NOT NULL, PRIMARY KEY (run_id, key, idx)) WITHOUT ROWID;
           CREATE INDEX metrics_by_step ON metrics (run_id, key, step);""",
        "INSERT OR IGNORE INTO metrics VALUES (?, ?, ?, ?, ?, ?)",
        lambda run, key, series: (run, key),
    ),
    "integer series (series, idx)": (
        """CREATE TABLE series (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, key TEXT NOT NULL, UNIQUE (run_id, key));
           CREATE TABLE metrics (series INTEGER NOT NULL, idx INTEGER NOT NULL, step INTEGER NOT NULL,
               value REAL, ts INTEGER NOT NULL, PRIMARY KEY (series, idx)) WITHOUT ROWID;
           CREATE INDEX metrics_by_step ON metrics (series, step);""",
        "INSERT OR IGNORE INTO metrics VALUES (?, ?, ?, ?, ?)",
        lambda run, key, series: (series,),
    ),
    # As above with a foreign key on every point (checked on each insert, with `PRAGMA foreign_keys = ON`, as
    # GRDB sets it): the store's migration v12 has none and deletes a series' points with a trigger instead.
    "integer series, foreign key": (
        """CREATE TABLE series (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, key TEXT NOT NULL, UNIQUE (run_id, key));
           CREATE TABLE metrics (series INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
               step INTEGER NOT NULL, value REAL, ts INTEGER NOT NULL, PRIMARY KEY (series, idx)) WITHOUT ROWID;
           CREATE INDEX metrics_by_step ON metrics (series, step);""",
        "INSERT OR IGNORE INTO metrics VALUES (?, ?, ?, ?, ?)",
        lambda run, key, series: (series,),
    ),
}


def measure(name, points, batch, folder):
    schema, insert, prefix = LAYOUTS[name]
    path = os.path.join(folder, f"{abs(hash(name))}.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.executescript(schema)
    db.execute("PRAGMA foreign_keys = ON")
    if "series" in schema:
        db.executemany("INSERT INTO series (id, run_id, key) VALUES (?, ?, 'loss')",
                       [(number, str(uuid.uuid4())) for number in range(21)])
    # Other runs' points first, as in a store that has some history: 20 runs of 10,000 points.
    runs = [str(uuid.uuid4()) for _ in range(21)]
    for number, run in enumerate(runs[:-1]):
        db.execute("BEGIN")
        db.executemany(insert, [prefix(run, "loss", number) + (i, i, 0.5, 1_700_000_000_000_000 + i) for i in range(10_000)])
        db.execute("COMMIT")
    run, series = runs[-1], len(runs) - 1
    started = time.perf_counter()
    for first in range(0, points, batch):
        rows = [prefix(run, "loss", series) + (i, i, 1.0 / (1 + i), 1_700_000_000_000_000 + i)
                for i in range(first, first + batch)]
        db.execute("BEGIN IMMEDIATE")
        db.executemany(insert, rows)
        db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = os.path.getsize(path)
    db.close()
    os.remove(path)
    return points / seconds, size


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="quill-schema-probe.")
    rates = {name: [] for name in LAYOUTS}
    sizes = {}
    for _ in range(args.rounds):
        for name in LAYOUTS:
            rate, size = measure(name, args.points, args.batch, folder)
            rates[name].append(rate)
            sizes[name] = size
    os.rmdir(folder)
    print(f"SQLite {sqlite3.sqlite_version}; {args.points:,} points in batches of {args.batch:,}, one sync each; "
          f"{args.rounds} rounds; load {os.getloadavg()[0]:.2f}")
    for name in LAYOUTS:
        print(f"  {name:<32} median {statistics.median(rates[name]):>10,.0f} points/s (rounds: "
              + ", ".join(f"{r:,.0f}" for r in rates[name]) + f"); file {sizes[name] / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
