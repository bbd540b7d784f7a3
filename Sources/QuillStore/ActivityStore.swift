public import Foundation
public import QuillCore

/// Counts for the dashboard's projects and statistics pages: how many runs each project has by status, when
/// it last changed, runs per day, and the storage metrics and artifacts use.
///
/// Every method takes the projects to count, so the caller decides what may be seen (the server passes the
/// projects the caller may read) and the store only counts.
public protocol ActivityStore: Sendable {
    /// Each project's runs by status and its last activity; projects without runs have empty counts.
    func projectActivity(_ projectIDs: [Int64]) async throws -> [Int64: ProjectActivity]

    /// Totals over `projectIDs`, with runs started per UTC day from `since` on.
    func statistics(projectIDs: [Int64], since: Date) async throws -> TrackingStatistics
}

/// One project's runs by status and when anything in it last changed.
public struct ProjectActivity: Sendable, Hashable {
    /// Runs by status; statuses without runs are absent.
    public var runsByStatus: [RunStatus: Int]
    /// The latest change to any of its runs (`updated_at`), or the project's creation when it has none.
    public var lastActivity: Date?

    /// Creates an activity summary.
    public init(runsByStatus: [RunStatus: Int] = [:], lastActivity: Date? = nil) {
        self.runsByStatus = runsByStatus
        self.lastActivity = lastActivity
    }
}

/// Totals over a set of projects.
public struct TrackingStatistics: Sendable, Hashable {
    /// Runs started on one UTC day.
    public struct Day: Sendable, Hashable {
        /// The day, as `YYYY-MM-DD` in UTC.
        public var day: String
        /// Runs started that day.
        public var runs: Int

        /// Creates a day's count.
        public init(day: String, runs: Int) {
            self.day = day
            self.runs = runs
        }
    }

    /// The projects counted.
    public var projects: Int = 0
    /// Runs by status.
    public var runsByStatus: [RunStatus: Int] = [:]
    /// Runs started per day since the requested date, oldest first; days without runs are absent.
    public var runsPerDay: [Day] = []
    /// Metric points stored (the sum of every series' count).
    public var metricPoints: Int64 = 0
    /// Metric series (run and key pairs).
    public var metricSeries: Int = 0
    /// Artifact records with a stored version (one being replaced counts with the version it has).
    public var artifactFiles: Int = 0
    /// Bytes of the stored artifact versions, each record counted (the same bytes in two runs count twice).
    public var artifactBytes: Int64 = 0

    /// Creates empty totals.
    public init() {}
}
