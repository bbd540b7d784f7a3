/// Totals over the projects the caller may read: `GET /api/v1/stats`, the dashboard's statistics page.
public struct APIStats: Codable, Sendable, Hashable {
    /// Runs started on one UTC day.
    public struct Day: Codable, Sendable, Hashable {
        /// `YYYY-MM-DD`, UTC.
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
    public var projects: Int
    /// Runs by status.
    public var runsByStatus: [String: Int]
    /// Runs started per day over the requested days, oldest first; days without runs are absent.
    public var runsPerDay: [Day]
    /// Metric points stored.
    public var metricPoints: Int64
    /// Metric series (run and key pairs).
    public var metricSeries: Int
    /// Artifact records with stored bytes.
    public var artifactFiles: Int
    /// Bytes of the stored artifact versions.
    public var artifactBytes: Int64

    enum CodingKeys: String, CodingKey {
        case projects
        case runsByStatus = "runs_by_status"
        case runsPerDay = "runs_per_day"
        case metricPoints = "metric_points"
        case metricSeries = "metric_series"
        case artifactFiles = "artifact_files"
        case artifactBytes = "artifact_bytes"
    }

    /// Creates totals.
    public init(
        projects: Int,
        runsByStatus: [String: Int],
        runsPerDay: [Day],
        metricPoints: Int64,
        metricSeries: Int,
        artifactFiles: Int,
        artifactBytes: Int64
    ) {
        self.projects = projects
        self.runsByStatus = runsByStatus
        self.runsPerDay = runsPerDay
        self.metricPoints = metricPoints
        self.metricSeries = metricSeries
        self.artifactFiles = artifactFiles
        self.artifactBytes = artifactBytes
    }
}
