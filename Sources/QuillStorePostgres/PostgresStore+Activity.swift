package import Foundation
import QuillCore
package import QuillStore

// Not yet on PostgreSQL: every method of this file throws until its helper writes it (issue 15).
extension PostgresStore {
    // MARK: ActivityStore

    /// Not yet on PostgreSQL.
    package func projectActivity(_ projectIDs: [Int64]) async throws -> [Int64: ProjectActivity] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func statistics(projectIDs: [Int64], since: Date) async throws -> TrackingStatistics {
        throw Self.notYet
    }

}
