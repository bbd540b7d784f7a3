import GRDB
import QuillCore

/// A row of `metric_stats`: the running statistics of one metric of one run, kept so searches and run pages do
/// not scan the points. A NaN value is NULL.
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
    var count = 0
    var lastIndex = -1
    var lastValue: Double?
    var lastStep: Int?
    var maxStep = -1
    var minValue: Double?
    var maxValue: Double?

    /// No points yet.
    init(runID: String, key: String) {
        self.runID = runID
        self.key = key
    }

    init(row: Row) {
        runID = row[Columns.runID]
        key = row[Columns.key]
        count = row[Columns.count]
        lastIndex = row[Columns.lastIndex]
        lastValue = row[Columns.lastValue]
        lastStep = row[Columns.lastStep]
        maxStep = row[Columns.maxStep]
        minValue = row[Columns.minValue]
        maxValue = row[Columns.maxValue]
    }

    /// The statistics of one metric of a run, or `nil` when it has none.
    static func fetch(_ db: Database, run: String, key: String) throws -> MetricStatsRecord? {
        // A cached statement: preparing one costs more than running it (GRDB's authorizer), and a batch of
        // many keys reads one row per key.
        let select = try db.cachedStatement(sql: "SELECT * FROM metric_stats WHERE run_id = ? AND key = ?")
        return try fetchOne(select, arguments: [run, key])
    }

    /// Counts a new point.
    mutating func add(index: Int, step: Int, value: Double) {
        count += 1
        maxStep = max(maxStep, step)
        if index > lastIndex {
            lastIndex = index
            lastValue = value.isNaN ? nil : value
            lastStep = step
        }
        guard !value.isNaN else { return }
        minValue = minValue.map { min($0, value) } ?? value
        maxValue = maxValue.map { max($0, value) } ?? value
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
            runID, key, count, lastIndex, lastValue, lastStep, maxStep, minValue, maxValue,
        ])
    }

    /// The statistics as the store's protocols give them (NULL values are NaN).
    var statistics: MetricStatistics {
        MetricStatistics(
            count: count,
            last: lastValue ?? .nan,
            lastStep: lastStep,
            min: minValue ?? .nan,
            max: maxValue ?? .nan
        )
    }
}
