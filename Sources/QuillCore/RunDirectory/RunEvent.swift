public import Foundation

/// One line of `events.jsonl`: something logged after the run started, with its time.
///
/// Params, tags, links, artifacts, summary updates, status changes and resumes each leave an event, so the
/// run's history can be replayed; `meta.json` holds the merged current state.
public struct RunEvent: Sendable, Hashable {
    /// What the event records.
    public enum Kind: String, Sendable, Hashable {
        /// A param was logged (`key`, `value`).
        case param
        /// A tag was set (`key`, `value`).
        case tag
        /// A link was added (`label`, `url`).
        case link
        /// An artifact was stored (`name`, `path`, `size`).
        case artifact
        /// Summary values were merged (`values`).
        case summary
        /// The run's status changed (`status`).
        case status
        /// The run was reopened (`at_idx`, `from_step`).
        case resume
    }

    /// What the event records.
    public var kind: Kind
    /// When it happened.
    public var timestamp: Date
    /// The event's fields.
    public var fields: [String: JSONValue]

    /// Creates an event.
    public init(kind: Kind, timestamp: Date = Date(), fields: [String: JSONValue]) {
        self.kind = kind
        self.timestamp = timestamp
        self.fields = fields
    }

    /// The event as one JSON line, newline included.
    public var line: [UInt8] {
        var members = fields
        members["type"] = .string(kind.rawValue)
        members["_timestamp"] = .string(Timestamp.string(timestamp))
        var bytes = JSONWriter.bytes(.object(members))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// Reads an event from a parsed line; `nil` for unknown types.
    public init?(members: [String: JSONValue]) {
        guard let type = members["type"]?.stringValue, let kind = Kind(rawValue: type) else { return nil }
        self.kind = kind
        self.timestamp = members["_timestamp"]?.stringValue.flatMap(Timestamp.parse) ?? Date(timeIntervalSince1970: 0)
        var fields = members
        fields["type"] = nil
        fields["_timestamp"] = nil
        self.fields = fields
    }
}

/// One line of `system.jsonl`: a sample of the machine's and process's resource use.
public struct SystemSample: Sendable, Hashable {
    /// When the sample was taken.
    public var timestamp: Date
    /// The sampled values (`cpu_percent`, `memory_percent`, `process_rss_mb`, `gpu0_util_percent`, …).
    public var values: [String: Double]

    /// Creates a sample.
    public init(timestamp: Date, values: [String: Double]) {
        self.timestamp = timestamp
        self.values = values
    }
}

/// One line of a run's log file.
public struct LogLine: Sendable, Hashable {
    /// When it was written, for lines the SDK wrote (captured program output has none).
    public var timestamp: Date?
    /// The level, for lines the SDK wrote.
    public var level: LogLevel?
    /// The text.
    public var message: String

    /// Creates a line.
    public init(timestamp: Date?, level: LogLevel?, message: String) {
        self.timestamp = timestamp
        self.level = level
        self.message = message
    }

    /// The line as the SDK writes it: `2026-11-24T16:20:01.123456Z [info] message`.
    public var text: String {
        guard let timestamp, let level else { return message }
        return "\(Timestamp.string(timestamp)) [\(level.rawValue)] \(message)"
    }

    /// Parses a line written by ``text``; other lines become messages without time or level.
    public init(parsing line: String) {
        let bytes = Array(line.utf8)
        if bytes.count > 30, bytes[27] == UInt8(ascii: " "), bytes[28] == UInt8(ascii: "["),
            let time = Timestamp.parseMicroseconds(Array(bytes[0..<27])),
            let close = bytes[29...].firstIndex(of: UInt8(ascii: "]")),
            let level = LogLevel(rawValue: String(decoding: bytes[29..<close], as: UTF8.self))
        {
            let messageStart = min(close + 2, bytes.count)
            self.init(
                timestamp: Timestamp.date(microseconds: time),
                level: level,
                message: String(decoding: bytes[messageStart...], as: UTF8.self)
            )
        } else {
            self.init(timestamp: nil, level: nil, message: line)
        }
    }
}
