public import QuillCore

/// Where runs, their metrics and everything logged with them are kept on a server.
///
/// One protocol for every backend (SQLite by default, PostgreSQL later); the server's handlers see only
/// `any TrackingStore`. Each backend runs the shared conformance suite in `QuillTesting`.
///
/// The contract:
/// - ``project(namespace:displayName:)`` gets or creates; the slug is derived from the display name and
///   is unique in its namespace.
/// - ``createRun(_:)`` refuses an unknown project or parent with ``QuillError/Code/notFound``; a taken
///   name gets the first free numeric suffix, as the SDK does.
/// - ``logBatch(_:_:)`` is the single write path for a run's data. It is atomic: the whole batch or
///   nothing. A metric value whose key and index the store has is ignored; a value without a step gets the
///   key's next step.
/// - Every method on a run that does not exist throws ``QuillError/Code/notFound``.
public protocol TrackingStore: Sendable {
    /// Gets a project by display name, creating it (private, recording `createdBy`) when the namespace has
    /// none of that slug.
    func project(namespace: String, displayName: String, createdBy: String?) async throws -> StoredProject

    /// A project by namespace and slug, or `nil`.
    func project(namespace: String, slug: String) async throws -> StoredProject?

    /// A project by id, or `nil`.
    func project(id: Int64) async throws -> StoredProject?

    /// Every project, ordered by namespace and slug.
    func projects() async throws -> [StoredProject]

    /// Changes who may see a project.
    func setVisibility(projectID: Int64, _ visibility: ProjectVisibility) async throws -> StoredProject

    /// Changes a project's display name, tags or lifecycle stage in one transaction, and returns it.
    ///
    /// A new display name that another project of the namespace has is `conflict`. Moving a project to the trash
    /// does not delete its runs; restoring it restores nothing else either (callers that want MLflow's cascade
    /// change the runs themselves). Throws `not_found` for an unknown project.
    func updateProject(_ id: Int64, _ update: ProjectUpdate) async throws -> StoredProject

    /// Moves a run to the trash (`deleted: true`) or restores it, keeping everything it logged, and returns it.
    ///
    /// A deleted run is still returned by ``run(_:)`` and ``runDetails(_:)`` (with ``StoredRun/deletedAt``), and
    /// searches see it only when ``RunSearch/lifecycle`` asks for deleted runs. Throws `not_found` for an unknown run.
    func setRunDeleted(_ id: RunID, _ deleted: Bool) async throws -> StoredRun

    /// Creates a run.
    func createRun(_ run: NewRun) async throws -> StoredRun

    /// A run's record alone (cheaper than ``runDetails(_:)``), or `nil`.
    func run(_ id: RunID) async throws -> StoredRun?

    /// A run and everything logged with it, or `nil`.
    func runDetails(_ id: RunID) async throws -> RunDetails?

    /// Changes a run.
    func updateRun(_ id: RunID, _ update: RunUpdate) async throws -> StoredRun

    /// Deletes a run and everything logged with it; its children lose their parent.
    func deleteRun(_ id: RunID) async throws

    /// Searches runs with a filter, an order and cursor paging.
    func searchRuns(_ search: RunSearch) async throws -> RunPage

    /// Writes a batch of metrics, params, tags, links and log lines for a run, atomically.
    func logBatch(_ run: RunID, _ batch: LogBatch) async throws -> BatchResult

    /// A metric's points in index order, optionally within a step range.
    func metricHistory(_ run: RunID, key: String, steps: ClosedRange<Int>?) async throws -> [MetricPoint]

    /// A metric's history downsampled to at most `maxPoints` points (at least 4), keeping each bucket's
    /// minimum and maximum, with the number of points it was taken from.
    ///
    /// The default reads the whole history and applies ``MetricDownsampling/minMax(_:maxPoints:)``. A
    /// backend may answer a long history without a step range from per-block summaries instead: the result
    /// is then still at most `maxPoints` real points of the metric in index order, with every bucket's
    /// minimum and maximum (NaN values as in `minMax`), but its buckets follow the backend's blocks.
    func downsampledHistory(
        _ run: RunID,
        key: String,
        steps: ClosedRange<Int>?,
        maxPoints: Int
    ) async throws -> DownsampledHistory

    /// A run's log lines, oldest first, from the `offset`-th (0 is the first) and at most `limit` of them,
    /// with the number of lines the run has, so a reader can follow the log: ask again from
    /// `offset + lines.count`.
    func logLines(_ run: RunID, offset: Int, limit: Int) async throws -> (lines: [LogLine], total: Int)

    /// A run's last `count` log lines, oldest first, with the position of the first of them and the number of
    /// lines the run has, read together (one count), so `offset + lines.count` continues the log.
    ///
    /// The default asks ``logLines(_:offset:limit:)`` twice; a backend answers from one read.
    func logTail(_ run: RunID, count: Int) async throws -> LogTail

    /// What a metric gained since a point a reader saw: its points whose index is greater than `index`, in
    /// index order and at most `limit` of them (none when `index` is `nil`), and the metric's largest
    /// index now, so a reader can follow a metric without reading it again from the start.
    ///
    /// The default reads the whole history; a backend answers from its index in time proportional to
    /// what it returns.
    func metricTail(_ run: RunID, key: String, after index: Int?, limit: Int) async throws -> MetricTail

    /// How many projects, runs and metric points the store holds.
    func counts() async throws -> StoreCounts

    /// The store's identity: a random id made once when the store is created and never changed, so a
    /// client can tell one server from another whatever URL it was reached by (`quill sync` keys its
    /// progress by it).
    func serverID() async throws -> String
}

/// Sizes of a store, for the server's status page.
public struct StoreCounts: Sendable, Hashable {
    /// Projects.
    public var projects: Int
    /// Runs.
    public var runs: Int
    /// Metric points.
    public var metricPoints: Int

    /// Creates counts.
    public init(projects: Int, runs: Int, metricPoints: Int) {
        self.projects = projects
        self.runs = runs
        self.metricPoints = metricPoints
    }
}

/// A downsampled metric history: the points shown and how many points they stand for.
public struct DownsampledHistory: Sendable, Hashable {
    /// The points kept, in index order.
    public var points: [MetricPoint]
    /// How many points the metric has (within the step range, when one was given).
    public var totalPoints: Int

    /// Creates a downsampled history.
    public init(points: [MetricPoint], totalPoints: Int) {
        self.points = points
        self.totalPoints = totalPoints
    }
}

/// The end of a run's log: ``TrackingStore/logTail(_:count:)``.
public struct LogTail: Sendable, Hashable {
    /// The lines, oldest first.
    public var lines: [LogLine]
    /// The position of the first line (0 is the run's first line).
    public var offset: Int
    /// How many lines the run has.
    public var total: Int

    /// Creates a tail.
    public init(lines: [LogLine], offset: Int, total: Int) {
        self.lines = lines
        self.offset = offset
        self.total = total
    }
}

/// What a metric gained after an index: ``TrackingStore/metricTail(_:key:after:limit:)``.
public struct MetricTail: Sendable, Hashable {
    /// The points after the index, in index order.
    public var points: [MetricPoint]
    /// The metric's largest index, or `nil` when it has no points.
    public var lastIndex: Int?

    /// Creates a tail.
    public init(points: [MetricPoint], lastIndex: Int?) {
        self.points = points
        self.lastIndex = lastIndex
    }
}

extension TrackingStore {
    /// Counts the lines, then reads the page that ends the log.
    public func logTail(_ run: RunID, count: Int) async throws -> LogTail {
        let total = try await logLines(run, offset: 0, limit: 0).total
        let offset = max(0, total - max(0, count))
        let page = try await logLines(run, offset: offset, limit: max(0, count))
        return LogTail(lines: page.lines, offset: offset, total: page.total)
    }

    /// Reads the whole history and keeps what follows `index`.
    public func metricTail(_ run: RunID, key: String, after index: Int?, limit: Int) async throws -> MetricTail {
        let points = try await metricHistory(run, key: key, steps: nil)
        guard let index else { return MetricTail(points: [], lastIndex: points.last?.index) }
        let after = points.drop { $0.index <= index }.prefix(max(0, limit))
        return MetricTail(points: Array(after), lastIndex: points.last?.index)
    }

    /// A run's first `limit` log lines, oldest first.
    public func logLines(_ run: RunID, limit: Int) async throws -> [LogLine] {
        try await logLines(run, offset: 0, limit: limit).lines
    }

    /// Gets or creates a project with no recorded creator.
    public func project(namespace: String, displayName: String) async throws -> StoredProject {
        try await project(namespace: namespace, displayName: displayName, createdBy: nil)
    }

    /// Logs one metric value (through ``logBatch(_:_:)``).
    @discardableResult
    public func logMetric(_ run: RunID, _ value: MetricValue) async throws -> BatchResult {
        var batch = LogBatch()
        batch.metrics = [value]
        return try await logBatch(run, batch)
    }

    /// A metric's history downsampled to at most `maxPoints`, keeping each bucket's min and max.
    public func metricHistory(
        _ run: RunID,
        key: String,
        steps: ClosedRange<Int>?,
        maxPoints: Int
    ) async throws -> [MetricPoint] {
        try await downsampledHistory(run, key: key, steps: steps, maxPoints: maxPoints).points
    }

    /// Reads the whole history and downsamples it in memory (exact `minMax` buckets).
    public func downsampledHistory(
        _ run: RunID,
        key: String,
        steps: ClosedRange<Int>?,
        maxPoints: Int
    ) async throws -> DownsampledHistory {
        let points = try await metricHistory(run, key: key, steps: steps)
        return DownsampledHistory(
            points: MetricDownsampling.minMax(points, maxPoints: maxPoints),
            totalPoints: points.count
        )
    }
}
