public import Foundation
public import QuillCore

/// One metric value: an element of ``APIBatch/metrics`` and the body of `POST /api/v1/runs/{id}/metrics`.
public struct APIMetric: Codable, Sendable, Hashable {
    /// The metric's key (not empty).
    public var key: String
    /// The value; NaN and the infinities travel as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    public var value: Double
    /// The training step (within ``MetricBounds/steps``).
    public var step: Int?
    /// When it was logged (the server's time when `nil`).
    public var timestamp: Date?
    /// Its position in the run's series (within ``MetricBounds/indexes``); a point the server already has
    /// at this index is ignored.
    public var idx: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case key, value, step, timestamp, idx
    }

    /// Creates a value.
    public init(key: String, value: Double, step: Int? = nil, timestamp: Date? = nil, idx: Int? = nil) {
        self.key = key
        self.value = value
        self.step = step
        self.timestamp = timestamp
        self.idx = idx
    }

    /// Reads a value, refusing an empty key and a step or index outside ``MetricBounds``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(String.self, forKey: .key)
        guard !key.isEmpty else {
            throw QuillError(
                .invalidArgument,
                "\(APIDecoder.describe(container.codingPath + [CodingKeys.key])) must not be empty"
            )
        }
        guard try !container.decodeNil(forKey: .value) else {
            throw QuillError(
                .invalidArgument,
                "\(APIDecoder.describe(container.codingPath + [CodingKeys.value])) is required (a number, or \"NaN\", \"Infinity\", \"-Infinity\")"
            )
        }
        value = try container.decode(Double.self, forKey: .value)
        step = try container.decodeIfPresent(Int.self, forKey: .step, in: MetricBounds.steps)
        timestamp = try container.decodeIfPresent(Date.self, forKey: .timestamp)
        idx = try container.decodeIfPresent(Int.self, forKey: .idx, in: MetricBounds.indexes)
    }
}

/// A line of `metrics.jsonl` as it is: an element of ``APIBatch/rows``, `{"_idx", "_timestamp", "step",
/// "<metric>": value, …}`. Members that are `null` are skipped; any other metric value must be a number.
public struct APIMetricRow: Codable, Sendable, Hashable {
    /// The row's index (`_idx`).
    public var idx: Int?
    /// When it was logged (`_timestamp`; the server's time when `nil`).
    public var timestamp: Date?
    /// The training step.
    public var step: Int?
    /// The values, by metric key.
    public var values: [String: Double]

    /// Creates a row.
    public init(idx: Int? = nil, timestamp: Date? = nil, step: Int? = nil, values: [String: Double]) {
        self.idx = idx
        self.timestamp = timestamp
        self.step = step
        self.values = values
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Reads a row.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        idx = try container.decodeIfPresent(Int.self, forKey: Key("_idx"), in: MetricBounds.indexes)
        step = try container.decodeIfPresent(Int.self, forKey: Key("step"), in: MetricBounds.steps)
        timestamp = try container.decodeIfPresent(Date.self, forKey: Key("_timestamp"))
        var values: [String: Double] = [:]
        for key in container.allKeys where !MetricsFile.reservedKeys.contains(key.stringValue) {
            if key.stringValue.isEmpty {
                throw QuillError(
                    .invalidArgument,
                    "a metric name in \(APIDecoder.describe(container.codingPath)) must not be empty (as in body.metrics)"
                )
            }
            if key.stringValue.utf8.contains(0) {
                throw QuillError(
                    .invalidArgument,
                    "a metric name in \(APIDecoder.describe(container.codingPath)) must not contain a NUL byte"
                )
            }
            if let value = try container.decodeIfPresent(Double.self, forKey: key) { values[key.stringValue] = value }
        }
        self.values = values
    }

    /// Writes the row as `metrics.jsonl` holds it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        if let idx { try container.encode(idx, forKey: Key("_idx")) }
        if let timestamp { try container.encode(timestamp, forKey: Key("_timestamp")) }
        if let step { try container.encode(step, forKey: Key("step")) }
        for (key, value) in values { try container.encode(value, forKey: Key(key)) }
    }
}

/// The body of `POST /api/v1/runs/{id}/batch`: any of metrics, rows, params, tags, links and log lines.
public struct APIBatch: Codable, Sendable, Hashable {
    /// Metric values.
    @OmittedWhenNil public var metrics: [APIMetric]?
    /// Lines of `metrics.jsonl`.
    @OmittedWhenNil public var rows: [APIMetricRow]?
    /// Params to set.
    @OmittedWhenNil public var params: [String: JSONValue]?
    /// Tags to set.
    @OmittedWhenNil public var tags: [String: String]?
    /// Links to add.
    @OmittedWhenNil public var links: [APILink]?
    /// Log lines to append.
    @OmittedWhenNil public var logs: [APILogLine]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case metrics, rows, params, tags, links, logs
    }

    /// Creates a batch.
    public init(
        metrics: [APIMetric]? = nil,
        rows: [APIMetricRow]? = nil,
        params: [String: JSONValue]? = nil,
        tags: [String: String]? = nil,
        links: [APILink]? = nil,
        logs: [APILogLine]? = nil
    ) {
        self.metrics = metrics
        self.rows = rows
        self.params = params
        self.tags = tags
        self.links = links
        self.logs = logs
    }
}

/// What a batch stored: `POST /api/v1/runs/{id}/batch` and `POST /api/v1/runs/{id}/metrics`.
public struct APIBatchResult: Codable, Sendable, Hashable {
    /// Points stored.
    public var metricsWritten: Int
    /// Points the run already had (same index), so not stored again.
    public var metricsIgnored: Int

    enum CodingKeys: String, CodingKey {
        case metricsWritten = "metrics_written"
        case metricsIgnored = "metrics_ignored"
    }

    /// Creates a result.
    public init(metricsWritten: Int, metricsIgnored: Int) {
        self.metricsWritten = metricsWritten
        self.metricsIgnored = metricsIgnored
    }
}

/// One point of a metric's history.
public struct APIMetricPoint: Codable, Sendable, Hashable {
    /// Its index in the series.
    public var idx: Int
    /// Its step, or `null`.
    public var step: Int?
    /// When it was logged.
    public var timestamp: Date
    /// The value.
    public var value: Double

    /// Creates a point.
    public init(idx: Int, step: Int?, timestamp: Date, value: Double) {
        self.idx = idx
        self.step = step
        self.timestamp = timestamp
        self.value = value
    }
}

/// A metric's history: `GET /api/v1/runs/{id}/metrics?key=…`. The server writes it with a fast encoder
/// that gives the same bytes as ``APIEncoder``.
public struct APIMetricHistory: Codable, Sendable, Hashable {
    /// Whether ``points`` is a downsampled selection of the series.
    public var downsampled: Bool
    /// The metric.
    public var key: String
    /// The points, by index.
    public var points: [APIMetricPoint]
    /// Points in the series (in the step range asked for).
    public var totalPoints: Int

    enum CodingKeys: String, CodingKey {
        case downsampled, key, points
        case totalPoints = "total_points"
    }

    /// Creates a history.
    public init(downsampled: Bool, key: String, points: [APIMetricPoint], totalPoints: Int) {
        self.downsampled = downsampled
        self.key = key
        self.points = points
        self.totalPoints = totalPoints
    }
}

/// Every metric's statistics: `GET /api/v1/runs/{id}/metrics` without `key`.
public struct APIMetricSummaries: Codable, Sendable, Hashable {
    /// The statistics, by key.
    public var metrics: [String: APIMetricStatistics]

    /// Creates the list.
    public init(metrics: [String: APIMetricStatistics]) {
        self.metrics = metrics
    }
}

/// A param: the body of `POST /api/v1/runs/{id}/params`.
public struct APIParam: Codable, Sendable, Hashable {
    /// The param's key (not empty).
    public var key: String
    /// Its value (`null` when `nil`).
    public var value: JSONValue?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case key, value
    }

    /// Creates a param.
    public init(key: String, value: JSONValue?) {
        self.key = key
        self.value = value
    }
}

/// A tag: the body of `POST /api/v1/runs/{id}/tags`.
public struct APITag: Codable, Sendable, Hashable {
    /// The tag's key (not empty).
    public var key: String
    /// Its value (empty when `nil`).
    public var value: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case key, value
    }

    /// Creates a tag.
    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }
}

/// A link to add: the body of `POST /api/v1/runs/{id}/links` and an element of ``APIBatch/links``.
public struct APILink: Codable, Sendable, Hashable {
    /// What the link is.
    public var label: String
    /// Where it leads.
    public var url: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case label, url
    }

    /// Creates a link.
    public init(label: String, url: String) {
        self.label = label
        self.url = url
    }
}

/// A log line: the body of `POST /api/v1/runs/{id}/logs`, an element of ``APIBatch/logs`` and of
/// ``APILogList``.
public struct APILogLine: Codable, Sendable, Hashable {
    /// When it was written (the server's time when a request leaves it out; `null` in an answer for a
    /// line without one).
    public var timestamp: Date?
    /// `debug`, `info`, `warning` or `error` (`info` when a request leaves it out).
    public var level: String?
    /// The text.
    public var message: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case timestamp, level, message
    }

    /// Creates a line.
    public init(timestamp: Date?, level: String?, message: String) {
        self.timestamp = timestamp
        self.level = level
        self.message = message
    }
}

/// A run's log lines, oldest first: `GET /api/v1/runs/{id}/logs`.
public struct APILogList: Codable, Sendable, Hashable {
    /// The lines.
    public var logs: [APILogLine]
    /// The position after the last line returned: ask again with `after` set to it to follow the log.
    public var next: Int
    /// How many lines the run has.
    public var total: Int

    /// Creates the list.
    public init(logs: [APILogLine], next: Int, total: Int) {
        self.logs = logs
        self.next = next
        self.total = total
    }
}

/// Several metrics' histories of one run: `GET /api/v1/runs/{id}/histories?key=…&key=…`.
public struct APIMetricHistories: Codable, Sendable, Hashable {
    /// One history per `key` asked for, in that order.
    public var histories: [APIMetricHistory]

    /// Creates an answer.
    public init(histories: [APIMetricHistory]) {
        self.histories = histories
    }
}
