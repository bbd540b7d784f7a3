import Foundation
import QuillAPI
import QuillCore
import QuillStore

/// What the server checks in request values beyond their wire types (QuillAPI's ``APIDecoder`` already
/// refuses unknown fields, wrong types and NUL bytes in strings, naming the field).
enum RequestRules {
    /// Names, keys and labels become database keys and, later, file names: a NUL byte in one is refused
    /// rather than silently cut.
    static func refuseNUL(_ text: String, _ what: String) throws {
        if text.utf8.contains(0) {
            throw QuillError(.invalidArgument, "\(what) must not contain a NUL byte")
        }
    }

    /// Refuses an empty key or one with a NUL byte.
    static func checkKey(_ text: String, _ what: String) throws {
        guard !text.isEmpty else { throw QuillError(.invalidArgument, "\(what) must not be empty") }
        try refuseNUL(text, what)
    }

    /// Refuses an empty or NUL-holding key of a string map (tags), and gives the keys in NFC (see
    /// ``MetricBounds/normalizedKey(_:)``).
    static func stringMap(_ object: [String: String], field: String) throws -> [String: String] {
        var map: [String: String] = [:]
        map.reserveCapacity(object.count)
        for (key, text) in object {
            try checkKey(key, "a key of \(field)")
            map[MetricBounds.normalizedKey(key)] = text
        }
        return map
    }

    /// Params as the store takes them: keys in NFC, and no NUL byte in a key or in any string of a value
    /// (the search index keeps param text, where a NUL would cut it short).
    static func params(_ object: [String: JSONValue], field: String) throws -> [String: JSONValue] {
        var params: [String: JSONValue] = [:]
        params.reserveCapacity(object.count)
        for (key, value) in object {
            try checkKey(key, "a key of \(field)")
            try refuseNUL(in: value, "\(field).\(key)")
            params[MetricBounds.normalizedKey(key)] = value
        }
        return params
    }

    /// Refuses a NUL byte in any string or member name inside a JSON value.
    static func refuseNUL(in value: JSONValue, _ what: String) throws {
        switch value {
        case .string(let text): try refuseNUL(text, what)
        case .array(let items): for item in items { try refuseNUL(in: item, what) }
        case .object(let members):
            for (key, member) in members {
                try refuseNUL(key, "a key in \(what)")
                try refuseNUL(in: member, what)
            }
        default: break
        }
    }
}

/// Turns the batch endpoint's body (``APIBatch``) and the single-item bodies into what the store takes.
///
/// ```json
/// {"metrics": [{"key": "loss", "value": 0.5, "step": 1, "timestamp": "…", "idx": 0}],
///  "rows": [{"_idx": 0, "_timestamp": "…", "step": 1, "loss": 0.5, "acc": 0.9}],
///  "params": {"lr": 0.01}, "tags": {"team": "vision"}, "links": [{"label": "…", "url": "…"}],
///  "logs": [{"level": "info", "message": "…", "timestamp": "…"}]}
/// ```
/// `rows` takes `metrics.jsonl` lines as they are, so a run directory syncs without rewriting.
enum LogBatchReader {
    static func batch(_ body: APIBatch, now: Date = Date()) throws -> LogBatch {
        var batch = LogBatch()
        batch.metrics = (body.metrics ?? []).map { metric($0, now: now) }
        for row in body.rows ?? [] {
            for (key, value) in row.values {
                batch.metrics.append(
                    MetricValue(
                        key: MetricBounds.normalizedKey(key),
                        value: value,
                        step: row.step,
                        timestamp: row.timestamp ?? now,
                        index: row.idx
                    )
                )
            }
        }
        batch.params = try RequestRules.params(body.params ?? [:], field: "body.params")
        batch.tags = try RequestRules.stringMap(body.tags ?? [:], field: "body.tags")
        batch.links = (body.links ?? []).map { RunLink(label: $0.label, url: $0.url) }
        for (offset, line) in (body.logs ?? []).enumerated() {
            batch.logs.append(try logLine(line, path: "body.logs[\(offset)]", now: now))
        }
        return batch
    }

    static func metric(_ metric: APIMetric, now: Date = Date()) -> MetricValue {
        MetricValue(
            key: MetricBounds.normalizedKey(metric.key),
            value: metric.value,
            step: metric.step,
            timestamp: metric.timestamp ?? now,
            index: metric.idx
        )
    }

    static func logLine(_ line: APILogLine, path: String = "body", now: Date = Date()) throws -> LogLine {
        let level = try line.level.map { text in
            guard let level = LogLevel(rawValue: text) else {
                throw QuillError(.invalidArgument, "\(path).level must be debug, info, warning or error")
            }
            return level
        }
        return LogLine(timestamp: line.timestamp ?? now, level: level ?? .info, message: line.message)
    }
}
