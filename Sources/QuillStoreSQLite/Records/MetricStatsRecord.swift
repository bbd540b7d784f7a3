import GRDB
import QuillCore
import QuillStore

/// A row of `metric_stats`: the running statistics of one metric of one run (``MetricSeriesStatistics``), kept
/// so searches and run pages do not scan the points. A NaN value is NULL.
struct MetricStatsRecord: FetchableRecord, TableRecord, Sendable {
    static let databaseTableName = "metric_stats"

    /// The table's columns.
    enum Columns {
        static let runID = Column("run_id")
        static let key = Column("key")
        static let count = Column("count")
        static let lastIndex = Column("last_idx")
        static let lastValue = Column("last_value")
        static let lastStep = Column("last_step")
        static let maxStep = Column("max_step")
        static let minValue = Column("min_value")
        static let maxValue = Column("max_value")
    }

    var runID = ""
    var key = ""
    var values = MetricSeriesStatistics()

    /// Statistics of a key.
    init(runID: String, key: String, values: MetricSeriesStatistics = MetricSeriesStatistics()) {
        self.runID = runID
        self.key = key
        self.values = values
    }

    init(row: Row) {
        runID = row[Columns.runID]
        key = row[Columns.key]
        values = MetricSeriesStatistics(
            count: row[Columns.count],
            lastIndex: row[Columns.lastIndex],
            lastValue: row[Columns.lastValue],
            lastStep: row[Columns.lastStep],
            maxStep: row[Columns.maxStep],
            minValue: row[Columns.minValue],
            maxValue: row[Columns.maxValue]
        )
    }

    /// The statistics of one metric of a run, or `nil` when it has none.
    static func fetch(_ db: Database, run: String, key: String) throws -> MetricStatsRecord? {
        // A cached statement: preparing one costs more than running it (GRDB's authorizer), and a batch of
        // many keys reads one row per key.
        let select = try db.cachedStatement(sql: "SELECT * FROM metric_stats WHERE run_id = ? AND key = ?")
        return try fetchOne(select, arguments: [run, key])
    }

    /// Writes the row (insert or replace).
    func save(_ db: Database) throws {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO metric_stats (run_id, key, count, last_idx, last_value, last_step, max_step, min_value, max_value)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, key) DO UPDATE SET count = excluded.count, last_idx = excluded.last_idx,
                    last_value = excluded.last_value, last_step = excluded.last_step, max_step = excluded.max_step,
                    min_value = excluded.min_value, max_value = excluded.max_value
                """
        )
        try upsert.execute(arguments: [
            runID, key, values.count, values.lastIndex, values.lastValue, values.lastStep, values.maxStep,
            values.minValue, values.maxValue,
        ])
    }

    /// The statistics as the store's protocols give them (NULL values are NaN).
    var statistics: MetricStatistics { values.statistics }
}
