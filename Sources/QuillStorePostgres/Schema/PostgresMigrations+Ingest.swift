extension PostgresMigrations {
    /// Metric points and blocks go with their series by a delete trigger, not by foreign keys (issue 15,
    /// ingest speed), as on SQLite (its trigger `metric_series_deleted`).
    ///
    /// A foreign key checks every inserted point against `metric_series` (one trigger call and one index
    /// probe per row), which cost about 40% of a batch of 1,000 points. The store writes points only for a
    /// series it has just read or made under the run's row lock, so the check never failed; what the keys
    /// still did, deleting a series' points and blocks with it (a run deleted, its series cascading), the
    /// trigger does.
    static let ingest: [String] = [
        "ALTER TABLE metrics DROP CONSTRAINT metrics_series_fkey",
        "ALTER TABLE metric_blocks DROP CONSTRAINT metric_blocks_series_fkey",
        """
        CREATE FUNCTION quill_metric_series_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM metrics WHERE series = OLD.id;
            DELETE FROM metric_blocks WHERE series = OLD.id;
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER metric_series_deleted AFTER DELETE ON metric_series
            FOR EACH ROW EXECUTE FUNCTION quill_metric_series_deleted()
        """,
    ]
}

extension PostgresMigrations {
    /// Migration "v5: metric batches written by one function" (issue 15, ingest speed): the function
    /// `quill_write_metrics` writes a batch's points, its keys' statistics and its blocks' summaries (computed by
    /// ``MetricIngest`` in the store, bound as arrays) in one statement, so a batch of a run whose statistics the
    /// store remembers is ONE round trip and one implicit transaction (one WAL sync) instead of five.
    ///
    /// It locks the run's row (`FOR NO KEY UPDATE`, as the transactional path does), then checks what the
    /// caller computed from: each named key's series id, point count and largest index must be those stored
    /// (later statements of a function read with a new snapshot, so a batch committed while this one waited
    /// for the lock is seen). Points are only ever added, so an equal count means the same points: statistics
    /// and blocks computed from the remembered ones are right. When the run is gone or a key differs it writes
    /// nothing and returns NULL (the store then takes the transactional path); else it inserts the points
    /// (`ON CONFLICT (series, idx) DO NOTHING` when `merge`; without it an already stored point fails the whole
    /// statement with a unique violation, as the append statement before it did), upserts the statistics and
    /// blocks, sets `runs.updated_at` to `touch` unless NULL, and returns the run's `updated_at`.
    static let batchFunction: [String] = [
        """
        CREATE FUNCTION quill_write_metrics(
            p_run TEXT, p_merge BOOLEAN, p_touch BIGINT,
            c_key TEXT[], c_series BIGINT[], c_count BIGINT[], c_last_idx BIGINT[],
            m_series BIGINT[], m_idx BIGINT[], m_step BIGINT[], m_value DOUBLE PRECISION[], m_ts BIGINT[],
            \(writeFunctionStart)
            IF p_merge THEN
                INSERT INTO metrics (series, idx, step, value, ts)
                SELECT * FROM unnest(m_series, m_idx, m_step, m_value, m_ts)
                ON CONFLICT (series, idx) DO NOTHING;
            ELSE
                INSERT INTO metrics (series, idx, step, value, ts)
                SELECT * FROM unnest(m_series, m_idx, m_step, m_value, m_ts);
            END IF;
            \(writeFunctionEnd)
        """
    ]
}

extension PostgresMigrations {
    /// The middle of `quill_write_metrics`, the same in migrations "v5" and "v6": the statistics and blocks
    /// parameters (the last ones), then the body's start: the run's row locked (NULL when the run is gone), and
    /// NULL unless every named key's series, point count and largest index are the ones the caller computed from.
    static let writeFunctionStart = """
            s_key TEXT[], s_count BIGINT[], s_last_idx BIGINT[], s_last_value DOUBLE PRECISION[],
            s_last_step BIGINT[], s_max_step BIGINT[], s_min_value DOUBLE PRECISION[],
            s_max_value DOUBLE PRECISION[],
            b_series BIGINT[], b_block BIGINT[], b_count BIGINT[], b_min_idx BIGINT[], b_min_step BIGINT[],
            b_min_value DOUBLE PRECISION[], b_min_ts BIGINT[], b_max_idx BIGINT[], b_max_step BIGINT[],
            b_max_value DOUBLE PRECISION[], b_max_ts BIGINT[], b_first_idx BIGINT[], b_last_idx BIGINT[]
        ) RETURNS BIGINT LANGUAGE plpgsql AS $$
        DECLARE
            run_updated BIGINT;
        BEGIN
            SELECT updated_at INTO run_updated FROM runs WHERE id = p_run FOR NO KEY UPDATE;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            IF EXISTS (
                SELECT 1 FROM unnest(c_key, c_series, c_count, c_last_idx) AS c(key, series, count, last_idx)
                LEFT JOIN metric_series s ON s.run_id = p_run AND s.key = c.key
                LEFT JOIN metric_stats st ON st.run_id = p_run AND st.key = c.key
                WHERE s.id IS DISTINCT FROM c.series OR st.count IS DISTINCT FROM c.count
                    OR st.last_idx IS DISTINCT FROM c.last_idx
            ) THEN
                RETURN NULL;
            END IF;
        """
}

extension PostgresMigrations {
    /// The end of `quill_write_metrics`, the same in migrations "v5" and "v6": the statistics and blocks
    /// upserts, `runs.updated_at` set to `p_touch` unless NULL, and the run's `updated_at` returned.
    static let writeFunctionEnd = """
            INSERT INTO metric_stats (run_id, key, count, last_idx, last_value, last_step, max_step, min_value,
                max_value)
            SELECT p_run, s.* FROM unnest(s_key, s_count, s_last_idx, s_last_value, s_last_step, s_max_step,
                s_min_value, s_max_value) AS s
            ON CONFLICT (run_id, key) DO UPDATE SET count = excluded.count, last_idx = excluded.last_idx,
                last_value = excluded.last_value, last_step = excluded.last_step, max_step = excluded.max_step,
                min_value = excluded.min_value, max_value = excluded.max_value;
            INSERT INTO metric_blocks (series, block, count, min_idx, min_step, min_value, min_ts, max_idx,
                max_step, max_value, max_ts, first_idx, last_idx)
            SELECT * FROM unnest(b_series, b_block, b_count, b_min_idx, b_min_step, b_min_value, b_min_ts,
                b_max_idx, b_max_step, b_max_value, b_max_ts, b_first_idx, b_last_idx)
            ON CONFLICT (series, block) DO UPDATE SET count = excluded.count, min_idx = excluded.min_idx,
                min_step = excluded.min_step, min_value = excluded.min_value, min_ts = excluded.min_ts,
                max_idx = excluded.max_idx, max_step = excluded.max_step, max_value = excluded.max_value,
                max_ts = excluded.max_ts, first_idx = excluded.first_idx, last_idx = excluded.last_idx;
            IF p_touch IS NOT NULL THEN
                UPDATE runs SET updated_at = p_touch WHERE id = p_run;
                run_updated := p_touch;
            END IF;
            RETURN run_updated;
        END $$
        """
}
