import Foundation
package import QuillCore
package import QuillStore

// Not yet on PostgreSQL: every method of this file throws until its helper writes it (issue 15).
extension PostgresStore {
    // MARK: TrackingStore

    /// Not yet on PostgreSQL.
    package func project(namespace: String, displayName: String, createdBy: String?) async throws -> StoredProject {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func project(namespace: String, slug: String) async throws -> StoredProject? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func project(id: Int64) async throws -> StoredProject? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func projects() async throws -> [StoredProject] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func setVisibility(projectID: Int64, _ visibility: ProjectVisibility) async throws -> StoredProject {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func updateProject(_ id: Int64, _ update: ProjectUpdate) async throws -> StoredProject {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func setRunDeleted(_ id: RunID, _ deleted: Bool) async throws -> StoredRun {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func createRun(_ run: NewRun) async throws -> StoredRun {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func run(_ id: RunID) async throws -> StoredRun? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func runDetails(_ id: RunID) async throws -> RunDetails? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func updateRun(_ id: RunID, _ update: RunUpdate) async throws -> StoredRun {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func deleteRun(_ id: RunID) async throws {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func logBatch(_ run: RunID, _ batch: LogBatch) async throws -> BatchResult {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func metricHistory(_ run: RunID, key: String, steps: ClosedRange<Int>?) async throws -> [MetricPoint] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func downsampledHistory(
        _ run: RunID,
        key: String,
        steps: ClosedRange<Int>?,
        maxPoints: Int
    ) async throws -> DownsampledHistory {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func logLines(_ run: RunID, offset: Int, limit: Int) async throws -> (lines: [LogLine], total: Int) {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func logTail(_ run: RunID, count: Int) async throws -> LogTail {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func metricTail(_ run: RunID, key: String, after index: Int?, limit: Int) async throws -> MetricTail {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func counts() async throws -> StoreCounts {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func serverID() async throws -> String {
        throw Self.notYet
    }

}
