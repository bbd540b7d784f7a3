import Foundation
import PostgresNIO
package import QuillCore
package import QuillStore

// A run's log lines on PostgreSQL, in the order logged (`id`), paged from the index `logs_by_run`.
extension PostgresStore {
    package func logLines(_ run: RunID, offset: Int, limit: Int) async throws -> (lines: [LogLine], total: Int) {
        try await snapshot { connection in
            guard try await runExists(connection, run) else { throw TrackingRules.missingRun(run) }
            let total = try await logCount(connection, run)
            let lines = try await logPage(connection, run, offset: max(0, offset), limit: max(0, limit))
            return (lines, total)
        }
    }

    /// The last `count` lines and the count, from one snapshot (one `count(*)`).
    package func logTail(_ run: RunID, count: Int) async throws -> LogTail {
        try await snapshot { connection in
            guard try await runExists(connection, run) else { throw TrackingRules.missingRun(run) }
            let total = try await logCount(connection, run)
            let offset = max(0, total - max(0, count))
            let lines = try await logPage(connection, run, offset: offset, limit: max(0, count))
            return LogTail(lines: lines, offset: offset, total: total)
        }
    }

    private func logCount(_ connection: PostgresConnection, _ run: RunID) async throws -> Int {
        let rows = try await connection.query(
            "SELECT count(*) FROM logs WHERE run_id = \(run.rawValue)",
            logger: logger
        )
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    private func logPage(
        _ connection: PostgresConnection,
        _ run: RunID,
        offset: Int,
        limit: Int
    ) async throws
        -> [LogLine]
    {
        guard limit > 0 else { return [] }
        let rows = try await connection.query(
            """
            SELECT ts, level, message FROM logs WHERE run_id = \(run.rawValue)
            ORDER BY id LIMIT \(Int64(limit)) OFFSET \(Int64(offset))
            """,
            logger: logger
        )
        var lines: [LogLine] = []
        for try await (time, level, message) in rows.decode((Int64?, String?, String).self) {
            lines.append(
                LogLine(
                    timestamp: time.map(Timestamp.date(microseconds:)),
                    level: level.flatMap(LogLevel.init(rawValue:)),
                    message: message
                )
            )
        }
        return lines
    }
}
