import Foundation
import GRDB
import QuillCore

/// The summary of one block of a metric's points, a row of `metric_blocks`: how many points the block
/// holds, its smallest and largest value (each with the whole point) and its first and last index.
///
/// A block is the points whose index `idx` has the same `floor(idx / size)`. Downsampled reads of long
/// histories read these rows (about `count / size` of them) instead of every point. The minimum and the
/// maximum follow ``MetricDownsampling/minMax(_:maxPoints:)``: NaN values (NULL in `metrics`) are
/// skipped, so both are `nil` when every value of the block is NaN, and between equal values the one with
/// the smallest index wins.
struct MetricBlock: Sendable, Equatable {
    /// Points per block: 256 keeps a block row small next to its points (one row per 256 points, 0.4% of
    /// the `metrics` rows) while a 1,000,000-point metric still has about 3,900 blocks, more than the
    /// 1,000 buckets of the largest usual request (`max_points=2000`).
    static let size = 256

    /// A point as it is stored: the value is never NaN here.
    struct Point: Sendable, Equatable {
        var index: Int
        var step: Int
        var value: Double
        var timestamp: Int64

        var metricPoint: MetricPoint {
            MetricPoint(index: index, step: step, timestamp: Timestamp.date(microseconds: timestamp), value: value)
        }
    }

    var count = 0
    var minimum: Point?
    var maximum: Point?
    var firstIndex = Int.max
    var lastIndex = Int.min

    /// The block an index falls in (rounded down, so negative indexes keep their order). Defined for every
    /// `Int`, `Int.min` included: no negation.
    static func number(of index: Int) -> Int {
        index >= 0 ? index / size : (index + 1) / size - 1
    }

    /// Adds a point that was just written; `value` is `nil` for NaN.
    mutating func add(index: Int, step: Int, value: Double?, timestamp: Int64) {
        count += 1
        firstIndex = min(firstIndex, index)
        lastIndex = max(lastIndex, index)
        guard let value, !value.isNaN else { return }
        let point = Point(index: index, step: step, value: value, timestamp: timestamp)
        minimum = Self.lower(minimum, point)
        maximum = Self.higher(maximum, point)
    }

    /// Adds the points another summary stands for (of disjoint points).
    mutating func merge(_ other: MetricBlock) {
        count += other.count
        firstIndex = min(firstIndex, other.firstIndex)
        lastIndex = max(lastIndex, other.lastIndex)
        if let point = other.minimum { minimum = Self.lower(minimum, point) }
        if let point = other.maximum { maximum = Self.higher(maximum, point) }
    }

    private static func lower(_ current: Point?, _ candidate: Point) -> Point {
        guard let current else { return candidate }
        if candidate.value < current.value || (candidate.value == current.value && candidate.index < current.index) {
            return candidate
        }
        return current
    }

    private static func higher(_ current: Point?, _ candidate: Point) -> Point {
        guard let current else { return candidate }
        if candidate.value > current.value || (candidate.value == current.value && candidate.index < current.index) {
            return candidate
        }
        return current
    }

    // MARK: Storage

    /// The columns every read selects, in this order (see ``init(_:)``).
    static let columns = """
        count, min_idx, min_step, min_value, min_ts, max_idx, max_step, max_value, max_ts, first_idx, last_idx
        """

    /// Reads a row selected with ``columns``, starting at column `offset`.
    init(_ statement: borrowing RawStatement, offset: Int32 = 0) {
        count = Int(statement.int64(offset))
        minimum = Self.point(statement, offset + 1)
        maximum = Self.point(statement, offset + 5)
        firstIndex = Int(statement.int64(offset + 9))
        lastIndex = Int(statement.int64(offset + 10))
    }

    init() {}

    private static func point(_ statement: borrowing RawStatement, _ column: Int32) -> Point? {
        guard let value = statement.double(column + 2) else { return nil }
        return Point(
            index: Int(statement.int64(column)),
            step: Int(statement.int64(column + 1)),
            value: value,
            timestamp: statement.int64(column + 3)
        )
    }

    /// Merges summaries of newly written points into the stored blocks, reading and writing each once
    /// (through cached statements: a batch of 1,000 points of one key touches about five blocks).
    static func add(_ db: Database, _ blocks: [Key: MetricBlock]) throws {
        guard !blocks.isEmpty else { return }
        let select = try db.cachedStatement(
            sql: "SELECT \(columns) FROM metric_blocks WHERE series = ? AND block = ?"
        )
        // In (series, block) order: the rows are read and written front to back, not in hash order all over
        // the B-tree (which, with thousands of keys, stops fitting SQLite's page cache).
        let ordered = blocks.sorted { ($0.key.series, $0.key.block) < ($1.key.series, $1.key.block) }
        for (location, added) in ordered {
            var block = added
            if let row = try Row.fetchOne(select, arguments: [location.series, location.block]) {
                block.merge(MetricBlock(row))
            }
            try block.save(db, series: location.series, block: location.block)
        }
    }

    /// Reads a row selected with ``columns`` through GRDB.
    private init(_ row: Row) {
        count = row[0]
        minimum = Self.point(row, 1)
        maximum = Self.point(row, 5)
        firstIndex = row[9]
        lastIndex = row[10]
    }

    private static func point(_ row: Row, _ column: Int) -> Point? {
        guard let value = row[column + 2] as Double? else { return nil }
        return Point(index: row[column], step: row[column + 1], value: value, timestamp: row[column + 3])
    }

    /// Writes the summary of a block, replacing the stored one.
    func save(_ db: Database, series: Int64, block: Int) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO metric_blocks (series, block, \(Self.columns))
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        try statement.execute(arguments: [series, block] + storedValues)
    }

    /// The values of ``columns``, in their order.
    private var storedValues: StatementArguments {
        [
            count,
            minimum?.index, minimum?.step, minimum?.value, minimum?.timestamp,
            maximum?.index, maximum?.step, maximum?.value, maximum?.timestamp,
            firstIndex, lastIndex,
        ]
    }

    /// A block of a series (a metric of one run, see ``MetricSeriesSchema``).
    struct Key: Hashable, Sendable {
        var series: Int64
        var block: Int
    }

    /// Summarizes every point already in `metrics` (the migration that adds the table, "v5: metric blocks").
    ///
    /// Written for the schema of that migration, when points and blocks were keyed by run id and key text;
    /// migration "v12" keys both by series.
    static func backfill(_ db: Database) throws {
        let statement = try RawStatement(
            db,
            sql: "SELECT run_id, key, idx, step, value, ts FROM metrics ORDER BY run_id, key, idx"
        )
        let insert = try db.makeStatement(
            sql: """
                INSERT OR REPLACE INTO metric_blocks (run_id, key, block, \(Self.columns))
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        func save(_ summary: MetricBlock, _ open: (run: String, key: String, block: Int)) throws {
            try insert.execute(arguments: [open.run, open.key, open.block] + summary.storedValues)
        }
        var current: (run: String, key: String, block: Int)?
        var summary = MetricBlock()
        while try statement.next() {
            let run = statement.text(0)
            let key = statement.text(1)
            let index = Int(statement.int64(2))
            let block = number(of: index)
            if let open = current, open.run != run || open.key != key || open.block != block {
                try save(summary, open)
                summary = MetricBlock()
            }
            current = (run, key, block)
            summary.add(
                index: index,
                step: Int(statement.int64(3)),
                value: statement.double(4),
                timestamp: statement.int64(5)
            )
        }
        if let open = current { try save(summary, open) }
    }
}
