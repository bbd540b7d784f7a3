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
