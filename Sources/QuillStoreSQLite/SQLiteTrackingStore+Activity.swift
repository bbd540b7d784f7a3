package import Foundation
import GRDB
import QuillCore
package import QuillStore

// Counts are of what the listings show: active projects and active runs. Storage (metric points and series,
// artifact files and bytes) counts every run's, since runs in the trash keep what they logged.
extension SQLiteTrackingStore: ActivityStore {
    package func projectActivity(_ projectIDs: [Int64]) async throws -> [Int64: ProjectActivity] {
        let ids = Self.jsonArray(projectIDs)
        return try await read { db in
            var activity: [Int64: ProjectActivity] = [:]
            let created = try Row.fetchAll(
                db,
                sql: "SELECT id, created_at FROM projects WHERE id IN (SELECT value FROM json_each(?))",
                arguments: [ids]
            )
            for row in created {
                let id: Int64 = row[0]
                activity[id] = ProjectActivity(lastActivity: Timestamp.date(microseconds: row[1]))
            }
            let counts = try Row.fetchAll(
                db,
                sql: """
                    SELECT project_id, status, count(*), max(updated_at) FROM runs
                    WHERE project_id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL
                    GROUP BY project_id, status
                    """,
                arguments: [ids]
            )
            for row in counts {
                let id: Int64 = row[0]
                guard let status = RunStatus(rawValue: row[1]) else { continue }
                var entry = activity[id] ?? ProjectActivity()
                entry.runsByStatus[status] = row[2]
                let updated = Timestamp.date(microseconds: row[3])
                if let last = entry.lastActivity, last >= updated {} else { entry.lastActivity = updated }
                activity[id] = entry
            }
            return activity
        }
    }

    package func statistics(projectIDs: [Int64], since: Date) async throws -> TrackingStatistics {
        let ids = Self.jsonArray(projectIDs)
        let sinceMicros = Timestamp.microseconds(since)
        return try await read { db in
            var statistics = TrackingStatistics()
            statistics.projects =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM projects WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL
                        """,
                    arguments: [ids]
                ) ?? 0
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT status, count(*) FROM runs
                    WHERE project_id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL
                    GROUP BY status
                    """,
                arguments: [ids]
            ) {
                if let status = RunStatus(rawValue: row[0]) { statistics.runsByStatus[status] = row[1] }
            }
            // started_at is microseconds since 1970; a UTC day is 86,400,000,000 of them.
            statistics.runsPerDay = try Row.fetchAll(
                db,
                sql: """
                    SELECT date(started_at / 1000000, 'unixepoch') AS day, count(*) FROM runs
                    WHERE project_id IN (SELECT value FROM json_each(?)) AND started_at >= ? AND deleted_at IS NULL
                    GROUP BY day ORDER BY day
                    """,
                arguments: [ids, sinceMicros]
            ).map { TrackingStatistics.Day(day: $0[0], runs: $0[1]) }
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*), coalesce(sum(count), 0) FROM metric_stats
                    WHERE run_id IN (SELECT id FROM runs WHERE project_id IN (SELECT value FROM json_each(?)))
                    """,
                arguments: [ids]
            ) {
                statistics.metricSeries = row[0]
                statistics.metricPoints = row[1]
            }
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*), coalesce(sum(size), 0) FROM artifacts
                    WHERE size IS NOT NULL
                      AND run_id IN (SELECT id FROM runs WHERE project_id IN (SELECT value FROM json_each(?)))
                    """,
                arguments: [ids]
            ) {
                statistics.artifactFiles = row[0]
                statistics.artifactBytes = row[1]
            }
            return statistics
        }
    }

    /// Project ids as a JSON array, for `IN (SELECT value FROM json_each(?))`: one statement whatever the count.
    private static func jsonArray(_ ids: [Int64]) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }
}
