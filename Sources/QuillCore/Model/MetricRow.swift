public import Foundation

/// One line of `metrics.jsonl`: the values logged in one call, with their index, time and step.
public struct MetricRow: Sendable, Hashable {
    /// The row's position in the run, from 0, increasing by one per row.
    public var index: Int
    /// When the row was logged.
    public var timestamp: Date
    /// The training step the values belong to, when one was given.
    public var step: Int?
    /// The metric values by key. NaN and infinities are kept.
    public var values: [String: Double]

    /// Creates a row.
    public init(index: Int, timestamp: Date, step: Int?, values: [String: Double]) {
        self.index = index
        self.timestamp = timestamp
        self.step = step
        self.values = values
    }
}

/// One point of one metric, as readers return a single curve.
public struct MetricPoint: Sendable, Hashable {
    /// The index of the row the point came from.
    public var index: Int
    /// The step, when one was logged.
    public var step: Int?
    /// When it was logged.
    public var timestamp: Date
    /// The value.
    public var value: Double

    /// Creates a point.
    public init(index: Int, step: Int?, timestamp: Date, value: Double) {
        self.index = index
        self.step = step
        self.timestamp = timestamp
        self.value = value
    }
}

/// A labelled external link attached to a run (a paper, a dashboard, a pull request).
public struct RunLink: Sendable, Hashable {
    /// What the link is.
    public var label: String
    /// Where it points.
    public var url: String
    /// When it was added.
    public var timestamp: Date

    /// Creates a link.
    public init(label: String, url: String, timestamp: Date = Date()) {
        self.label = label
        self.url = url
        self.timestamp = timestamp
    }
}

/// A file stored in a run's `artifacts/` folder.
public struct ArtifactRecord: Sendable, Hashable {
    /// The artifact's logical name.
    public var name: String
    /// The path inside `artifacts/`, with `/` separators.
    public var path: String
    /// The size in bytes.
    public var size: Int64
    /// When it was logged.
    public var timestamp: Date

    /// Creates a record.
    public init(name: String, path: String, size: Int64, timestamp: Date) {
        self.name = name
        self.path = path
        self.size = size
        self.timestamp = timestamp
    }
}

/// The level of a text log message.
public enum LogLevel: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Fine detail.
    case debug
    /// Normal progress.
    case info
    /// Something unexpected that the run survived.
    case warning
    /// A failure.
    case error

    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warning: 2
        case .error: 3
        }
    }

    /// Orders levels from `debug` to `error`.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}
