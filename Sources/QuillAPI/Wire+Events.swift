/// The events of `GET /api/v1/runs/{id}/events`, a server-sent event stream (`text/event-stream`) that
/// follows a run while it runs.
///
/// Each event has a name (`event:`), an opaque position (`id:`; a client that reconnects sends the last one
/// back as `Last-Event-ID` and gets only what it missed) and one JSON body (`data:`):
///
/// | event | body | sent when |
/// |---|---|---|
/// | `state` | ``APIRunEventState`` | first, on a stream that does not resume: where the stream starts |
/// | `metrics` | ``APIRunEventMetrics`` | metrics gained points |
/// | `logs` | ``APILogList`` | log lines were appended (`next` and `total` as `GET /runs/{id}/logs` gives them) |
/// | `run` | ``APIRunDetails`` | the status, summary, name, description, params, tags or links changed |
/// | `end` | ``APIRunEventEnd`` | last: the run finished (or was deleted) and the stream closes |
///
/// Comment lines (`: heartbeat`) keep an idle stream open through proxies.
public enum APIRunEvent: Sendable {
    /// The event names, in the order a stream can send them.
    public static let names = ["state", "metrics", "logs", "run", "end"]
}

/// Where a metric stands: its number of points and its largest index.
public struct APIMetricPosition: Codable, Sendable, Hashable {
    /// Points the metric has.
    public var totalPoints: Int
    /// Its largest index, or `null` when it has no points.
    public var lastIndex: Int?

    enum CodingKeys: String, CodingKey {
        case totalPoints = "total_points"
        case lastIndex = "last_index"
    }

    /// Creates a position.
    public init(totalPoints: Int, lastIndex: Int?) {
        self.totalPoints = totalPoints
        self.lastIndex = lastIndex
    }
}

/// The `state` event: what the run had when the stream started, so a client that loaded the run before can
/// fetch what it lacks (a metric whose last index is past its own, log lines before `logs`); the events
/// that follow carry only what came after.
public struct APIRunEventState: Codable, Sendable, Hashable {
    /// The run's status.
    public var status: String
    /// Log lines the run has: the stream's `logs` events continue from this position.
    public var logs: Int
    /// Each metric's position.
    public var metrics: [String: APIMetricPosition]

    /// Creates the state.
    public init(status: String, logs: Int, metrics: [String: APIMetricPosition]) {
        self.status = status
        self.logs = logs
        self.metrics = metrics
    }
}

/// New points of one metric.
public struct APIMetricAppend: Codable, Sendable, Hashable {
    /// The metric.
    public var key: String
    /// Points the metric has now.
    public var totalPoints: Int
    /// Its largest index now.
    public var lastIndex: Int?
    /// The points that follow the previous event's `last_index` (or the `state`'s), in index order.
    public var points: [APIMetricPoint]
    /// Whether `points` are all the metric gained; when `false` (too many at once, or points stored below an
    /// index already sent), the client should read the metric's history again.
    public var complete: Bool

    enum CodingKeys: String, CodingKey {
        case key, points, complete
        case totalPoints = "total_points"
        case lastIndex = "last_index"
    }

    /// Creates an append.
    public init(key: String, totalPoints: Int, lastIndex: Int?, points: [APIMetricPoint], complete: Bool) {
        self.key = key
        self.totalPoints = totalPoints
        self.lastIndex = lastIndex
        self.points = points
        self.complete = complete
    }
}

/// The `metrics` event: the metrics that gained points since the last event.
public struct APIRunEventMetrics: Codable, Sendable, Hashable {
    /// One entry per metric that changed, by key.
    public var metrics: [APIMetricAppend]

    /// Creates the event.
    public init(metrics: [APIMetricAppend]) {
        self.metrics = metrics
    }
}

/// The `end` event: the run has finished (or was deleted) and the stream closes.
public struct APIRunEventEnd: Codable, Sendable, Hashable {
    /// The run's final status, or `deleted`.
    public var status: String

    /// Creates the event.
    public init(status: String) {
        self.status = status
    }
}
