package import Foundation
import PostgresNIO
import QuillCore
package import QuillStore

// Counts are of what the listings show: active projects and active runs. Storage (metric points and series,
// artifact files and bytes) counts every run's, since runs in the trash keep what they logged. The same
// statements as SQLite's, with the project ids bound as one array.
extension PostgresStore {
    package func projectActivity(_ projectIDs: [Int64]) async throws -> [Int64: ProjectActivity] {
        try await snapshot { connection in
            var activity: [Int64: ProjectActivity] = [:]
            let created = try await connection.query(
                "SELECT id, created_at FROM projects WHERE id = ANY(\(projectIDs))",
                logger: logger
            )
            for try await (id, createdAt) in created.decode((Int64, Int64).self) {
                activity[id] = ProjectActivity(lastActivity: Timestamp.date(microseconds: createdAt))
            }
            let counts = try await connection.query(
                """
                SELECT project_id, status, count(*), max(updated_at) FROM runs
                WHERE project_id = ANY(\(projectIDs)) AND deleted_at IS NULL
                GROUP BY project_id, status
                """,
                logger: logger
            )
            for try await (id, statusText, count, updatedAt) in counts.decode((Int64, String, Int64, Int64).self) {
                guard let status = RunStatus(rawValue: statusText) else { continue }
                var entry = activity[id] ?? ProjectActivity()
                entry.runsByStatus[status] = Int(count)
                let updated = Timestamp.date(microseconds: updatedAt)
                if let last = entry.lastActivity, last >= updated {} else { entry.lastActivity = updated }
                activity[id] = entry
            }
            return activity
        }
    }

    package func statistics(projectIDs: [Int64], since: Date) async throws -> TrackingStatistics {
        let sinceMicros = Timestamp.microseconds(since)
        return try await snapshot { connection in
            var statistics = TrackingStatistics()
            let projects = try await connection.query(
                "SELECT count(*) FROM projects WHERE id = ANY(\(projectIDs)) AND deleted_at IS NULL",
                logger: logger
            )
            for try await count in projects.decode(Int64.self) { statistics.projects = Int(count) }
            let statuses = try await connection.query(
                """
                SELECT status, count(*) FROM runs
                WHERE project_id = ANY(\(projectIDs)) AND deleted_at IS NULL
                GROUP BY status
                """,
                logger: logger
            )
            for try await (statusText, count) in statuses.decode((String, Int64).self) {
                if let status = RunStatus(rawValue: statusText) { statistics.runsByStatus[status] = Int(count) }
            }
            // started_at is microseconds since 1970; the day is taken in UTC, as SQLite's date(…, 'unixepoch').
            let days = try await connection.query(
                """
                SELECT to_char(to_timestamp(started_at / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)
                FROM runs
                WHERE project_id = ANY(\(projectIDs)) AND started_at >= \(sinceMicros) AND deleted_at IS NULL
                GROUP BY day ORDER BY day
                """,
                logger: logger
            )
            for try await (day, count) in days.decode((String, Int64).self) {
                statistics.runsPerDay.append(TrackingStatistics.Day(day: day, runs: Int(count)))
            }
            let metrics = try await connection.query(
                """
                SELECT count(*), coalesce(sum(count), 0)::bigint FROM metric_stats
                WHERE run_id IN (SELECT id FROM runs WHERE project_id = ANY(\(projectIDs)))
                """,
                logger: logger
            )
            for try await (series, points) in metrics.decode((Int64, Int64).self) {
                statistics.metricSeries = Int(series)
                statistics.metricPoints = points
            }
            let artifacts = try await connection.query(
                """
                SELECT count(*), coalesce(sum(size), 0)::bigint FROM artifacts
                WHERE size IS NOT NULL AND run_id IN (SELECT id FROM runs WHERE project_id = ANY(\(projectIDs)))
                """,
                logger: logger
            )
            for try await (files, bytes) in artifacts.decode((Int64, Int64).self) {
                statistics.artifactFiles = Int(files)
                statistics.artifactBytes = bytes
            }
            return statistics
        }
    }
}
