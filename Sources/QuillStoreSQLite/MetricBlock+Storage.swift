import Foundation
import GRDB
import QuillCore
import QuillStore

// The rows of `metric_blocks` on SQLite; the summaries' arithmetic is ``MetricBlock``'s, in QuillStore.
extension MetricBlock {
    /// The columns every read selects, in this order (see ``init(_:)``).
    static let columns = """
        count, min_idx, min_step, min_value, min_ts, max_idx, max_step, max_value, max_ts, first_idx, last_idx
        """

    /// Reads a row selected with ``columns``, starting at column `offset`.
    init(_ statement: borrowing RawStatement, offset: Int32 = 0) {
        self.init(
            count: Int(statement.int64(offset)),
            minimum: Self.point(statement, offset + 1),
            maximum: Self.point(statement, offset + 5),
            firstIndex: Int(statement.int64(offset + 9)),
            lastIndex: Int(statement.int64(offset + 10))
        )
    }

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
        self.init(
            count: row[0],
            minimum: Self.point(row, 1),
            maximum: Self.point(row, 5),
            firstIndex: row[9],
            lastIndex: row[10]
        )
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
