import GRDB

/// Migration "v12: metric points keyed by series": a metric of a run (a series) gets an integer id in
/// `metric_series`, and its points (`metrics`) and block summaries (`metric_blocks`) are keyed by that id
/// instead of the run id and key text.
///
/// Before, every point carried its run's 36-character id and its key in two B-trees (the primary key and
/// the step index), and each insert compared that text several times in each; SQLite was half the server's
/// CPU time in batch ingest. Keyed by an 8-byte integer, a point is smaller (the file about a third) and
/// cheaper to insert (`bench/server/schema_probe.py`: 2.4 times the rate, SQLite alone). `metric_stats`
/// stays keyed by `(run_id, key)`: searches read it by key, one row per series, and a batch writes it once per
/// key.
///
/// `metrics` and `metric_blocks` have no foreign key: a foreign key is checked on every point inserted. A
/// trigger deletes a series' points and blocks with it, and a series goes with its run (its foreign key).
/// Only ``SQLiteTrackingStore/logBatch(_:_:)`` inserts points, after it found or made their series.
enum MetricSeriesSchema {
    static func migrate(_ db: Database) throws {
        // Existing databases are converted: a series per (run, key) holding points or blocks, then the
        // points and blocks copied into new tables in key order, the old tables dropped and the new ones
        // renamed. A new database goes through the same statements on empty tables.
        try db.execute(
            sql: """
                CREATE TABLE metric_series (
                    id INTEGER PRIMARY KEY,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    UNIQUE (run_id, key)
                );
                INSERT INTO metric_series (run_id, key) SELECT DISTINCT run_id, key FROM metrics ORDER BY run_id, key;
                INSERT OR IGNORE INTO metric_series (run_id, key)
                    SELECT DISTINCT run_id, key FROM metric_blocks ORDER BY run_id, key;

                CREATE TABLE metrics_by_series (
                    series INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    step INTEGER NOT NULL,
                    value REAL,
                    ts INTEGER NOT NULL,
                    PRIMARY KEY (series, idx)
                ) WITHOUT ROWID;
                INSERT INTO metrics_by_series (series, idx, step, value, ts)
                    SELECT s.id, m.idx, m.step, m.value, m.ts
                    FROM metric_series s CROSS JOIN metrics m ON m.run_id = s.run_id AND m.key = s.key
                    ORDER BY s.id, m.idx;
                DROP TABLE metrics;
                ALTER TABLE metrics_by_series RENAME TO metrics;
                CREATE INDEX metrics_by_step ON metrics (series, step);

                CREATE TABLE metric_blocks_by_series (
                    series INTEGER NOT NULL,
                    block INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    min_idx INTEGER,
                    min_step INTEGER,
                    min_value REAL,
                    min_ts INTEGER,
                    max_idx INTEGER,
                    max_step INTEGER,
                    max_value REAL,
                    max_ts INTEGER,
                    first_idx INTEGER NOT NULL,
                    last_idx INTEGER NOT NULL,
                    PRIMARY KEY (series, block)
                ) WITHOUT ROWID;
                INSERT INTO metric_blocks_by_series (
                    series, block, count, min_idx, min_step, min_value, min_ts, max_idx, max_step, max_value, max_ts,
                    first_idx, last_idx
                )
                    SELECT s.id, b.block, b.count, b.min_idx, b.min_step, b.min_value, b.min_ts, b.max_idx, b.max_step,
                        b.max_value, b.max_ts, b.first_idx, b.last_idx
                    FROM metric_series s CROSS JOIN metric_blocks b ON b.run_id = s.run_id AND b.key = s.key
                    ORDER BY s.id, b.block;
                DROP TABLE metric_blocks;
                ALTER TABLE metric_blocks_by_series RENAME TO metric_blocks;

                CREATE TRIGGER metric_series_deleted AFTER DELETE ON metric_series BEGIN
                    DELETE FROM metrics WHERE series = old.id;
                    DELETE FROM metric_blocks WHERE series = old.id;
                END;
                """
        )
    }
}
