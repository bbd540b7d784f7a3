import Foundation
import GRDB
package import QuillCore
package import QuillStore

extension SQLiteTrackingStore {
    // MARK: Following a running run

    /// The last `count` lines and the count, from one read (one `count(*)`).
    package func logTail(_ run: RunID, count: Int) async throws -> LogTail {
        try await read { db in
            guard try Self.runExists(db, run) else { throw Self.missing(run) }
            let mine = LogRecord.filter(LogRecord.Columns.runID == run.rawValue)
            let total = try mine.fetchCount(db)
            let offset = max(0, total - max(0, count))
            let lines = try mine.order(LogRecord.Columns.id)
                .limit(max(0, count), offset: offset)
                .fetchAll(db)
                .map(\.line)
            return LogTail(lines: lines, offset: offset, total: total)
        }
    }

    /// The points after an index from the primary key `(series, idx)`: a range scan of what is returned, and
    /// the largest index from the same key.
    package func metricTail(_ run: RunID, key: String, after index: Int?, limit: Int) async throws -> MetricTail {
        try await read { db in
            guard try Self.runExists(db, run) else { throw Self.missing(run) }
            guard let series = try Self.series(db, run: run.rawValue, key: key) else {
                return MetricTail(points: [], lastIndex: nil)
            }
            let last = try Int.fetchOne(db, sql: "SELECT max(idx) FROM metrics WHERE series = ?", arguments: [series])
            guard let index, limit > 0 else { return MetricTail(points: [], lastIndex: last) }
            let statement = try RawStatement(
                db,
                sql: "SELECT idx, step, value, ts FROM metrics WHERE series = ? AND idx > ? ORDER BY idx LIMIT ?"
            )
            statement.bind(series, at: 1)
            statement.bind(Int64(index), at: 2)
            statement.bind(Int64(limit), at: 3)
            var points: [MetricPoint] = []
            while try statement.next() {
                points.append(
                    MetricPoint(
                        index: Int(statement.int64(0)),
                        step: Int(statement.int64(1)),
                        timestamp: Timestamp.date(microseconds: statement.int64(3)),
                        value: statement.double(2) ?? .nan
                    )
                )
            }
            return MetricTail(points: points, lastIndex: last)
        }
    }
}
