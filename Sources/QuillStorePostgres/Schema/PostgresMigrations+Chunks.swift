extension PostgresMigrations {
    /// Migration "v6: metric points stored in chunks" (issue 15, ingest speed): a series' points are rows of
    /// `metric_chunks`, each holding up to ``MetricChunk/maximum`` consecutive points as four arrays (`idx`,
    /// `step`, `value`, `ts`), instead of one row of `metrics` per point.
    ///
    /// PostgreSQL spent most of a batch of 1,000 points writing 1,000 heap rows and 2,000 index entries
    /// (measured with pgbench: 3.6–3.9 ms per batch and commit); the same points as one row of four arrays take
    /// 1.1 ms. The arrays are `STORAGE EXTERNAL`: out of line but not compressed (pglz made the array row as slow
    /// as the rows).
    ///
    /// Invariants the store keeps: within a chunk the arrays are sorted by `idx` and `count` long; a series'
    /// chunks never overlap in `[first_idx, last_idx]`; a NaN value is a NULL element of `value`; `min_step` and
    /// `max_step` bound the chunk's steps (reads of a step range skip the other chunks). Points already stored
    /// move over in chunks of the same size, by `idx / maximum`; then `metrics` goes, the series' delete
    /// trigger deletes chunks, and `quill_write_metrics` takes chunks.
    static let chunks: [String] = [
        """
        CREATE TABLE metric_chunks (
            series BIGINT NOT NULL,
            first_idx BIGINT NOT NULL,
            last_idx BIGINT NOT NULL,
            min_step BIGINT NOT NULL,
            max_step BIGINT NOT NULL,
            count INTEGER NOT NULL,
            idx BIGINT[] NOT NULL,
            step BIGINT[] NOT NULL,
            value DOUBLE PRECISION[] NOT NULL,
            ts BIGINT[] NOT NULL,
            PRIMARY KEY (series, first_idx)
        )
        """,
        """
        ALTER TABLE metric_chunks ALTER idx SET STORAGE EXTERNAL, ALTER step SET STORAGE EXTERNAL,
            ALTER value SET STORAGE EXTERNAL, ALTER ts SET STORAGE EXTERNAL
        """,
        """
        INSERT INTO metric_chunks (series, first_idx, last_idx, min_step, max_step, count, idx, step, value, ts)
        SELECT series, min(idx), max(idx), min(step), max(step), count(*), array_agg(idx ORDER BY idx),
            array_agg(step ORDER BY idx), array_agg(value ORDER BY idx), array_agg(ts ORDER BY idx)
        FROM metrics GROUP BY series, idx / \(MetricChunk.maximum)
        """,
        "DROP TABLE metrics",
        """
        CREATE OR REPLACE FUNCTION quill_metric_series_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM metric_chunks WHERE series = OLD.id;
            DELETE FROM metric_blocks WHERE series = OLD.id;
            RETURN NULL;
        END $$
        """,
        "DROP FUNCTION quill_write_metrics",
        writeFunction,
    ]

    /// The function `quill_write_metrics` of migration "v6": v5's (see ``batchFunction``), writing chunks.
    ///
    /// The points are bound as four flat arrays, and the chunks as their bounds with the 1-based first and last
    /// positions of their points in the flat arrays (`k_start`, `k_end`): each chunk is inserted with array
    /// slices. Unless `p_merged` (the caller read and deleted the chunks its points fall among, under the run's
    /// lock), the chunks must all come after every stored point of their series: the chunk with the largest
    /// `first_idx` of each series is looked at (one index probe per series, not per point), and a stored point
    /// at or after the first new index fails the statement with a unique violation (SQLSTATE 23505, as the
    /// per-point primary key did), so the store writes the batch again, merging.
    static let writeFunction = """
        CREATE FUNCTION quill_write_metrics(
            p_run TEXT, p_merged BOOLEAN, p_touch BIGINT,
            c_key TEXT[], c_series BIGINT[], c_count BIGINT[], c_last_idx BIGINT[],
            m_idx BIGINT[], m_step BIGINT[], m_value DOUBLE PRECISION[], m_ts BIGINT[],
            k_series BIGINT[], k_first BIGINT[], k_last BIGINT[], k_min_step BIGINT[], k_max_step BIGINT[],
            k_count BIGINT[], k_start BIGINT[], k_end BIGINT[],
            \(writeFunctionStart)
            IF NOT p_merged AND EXISTS (
                SELECT 1
                FROM (
                    SELECT k.series, min(k.first) AS first FROM unnest(k_series, k_first) AS k(series, first)
                    GROUP BY k.series
                ) n
                CROSS JOIN LATERAL (
                    SELECT c.last_idx FROM metric_chunks c WHERE c.series = n.series
                    ORDER BY c.first_idx DESC LIMIT 1
                ) l
                WHERE l.last_idx >= n.first
            ) THEN
                RAISE unique_violation USING MESSAGE = 'a point of this metric batch is stored already';
            END IF;
            INSERT INTO metric_chunks (series, first_idx, last_idx, min_step, max_step, count, idx, step, value, ts)
            SELECT k.series, k.first, k.last, k.min_step, k.max_step, k.count, m_idx[k.s::int:k.e::int],
                m_step[k.s::int:k.e::int], m_value[k.s::int:k.e::int], m_ts[k.s::int:k.e::int]
            FROM unnest(k_series, k_first, k_last, k_min_step, k_max_step, k_count, k_start, k_end)
                AS k(series, first, last, min_step, max_step, count, s, e);
            \(writeFunctionEnd)
        """
}
