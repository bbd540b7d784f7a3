import Foundation
import QuillCore
import QuillStore

/// Where a run's event stream stands: what the client has been sent. It is each event's `id:`, so a client
/// that reconnects with `Last-Event-ID` gets only what follows.
///
/// The text is base64url of compact JSON (`{"i":"a1b2c3d4","l":12,"m":{"loss":[100,99]},"r":"…","s":"running","v":1}`):
/// the run, log lines sent, each metric's point count and largest index, a digest of the run's record and
/// its status. An id of another run's stream is refused like a foreign one. A run with so many metrics that their positions would make the id long (over
/// ``maxMetricsLength`` bytes) leaves them out; a stream resumed from such an id starts its metrics over
/// with a `state` event.
struct RunEventCursor: Sendable, Equatable {
    /// A metric's position: points sent and the largest index sent.
    struct Position: Sendable, Equatable {
        var count: Int
        var lastIndex: Int?
    }

    /// The run followed.
    var run: String
    /// Log lines sent (the position of the next).
    var logs: Int
    /// Each metric's position, or `nil` when the id did not carry them.
    var metrics: [String: Position]?
    /// The digest of the run's record as last sent (``RunEventCursor/digest(_:)``).
    var record: String
    /// The run's status as last sent.
    var status: String

    /// The longest metric positions an id carries, in bytes of JSON.
    static let maxMetricsLength = 6_000

    /// The cursor as an event id.
    var text: String {
        var members: [String: JSONValue] = [
            "v": 1, "i": .string(run), "l": .int(logs), "r": .string(record), "s": .string(status),
        ]
        if let metrics {
            let positions = JSONValue.object(
                metrics.mapValues { .array([.int($0.count), $0.lastIndex.map(JSONValue.int) ?? .null]) }
            )
            if JSONWriter.bytes(positions).count <= Self.maxMetricsLength { members["m"] = positions }
        }
        return Data(JSONWriter.bytes(.object(members))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A cursor read back from an event id of `run`'s stream; `nil` for text this server did not write, or
    /// wrote for another run.
    init?(text: String, run: String) {
        guard text.utf8.count <= 16_384 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let json = try? JSONParser.parse(Array(data)),
            json["v"] == 1, json["i"]?.stringValue == run, let logs = json["l"]?.intValue, logs >= 0,
            let record = json["r"]?.stringValue, let status = json["s"]?.stringValue
        else { return nil }
        var metrics: [String: Position]?
        if let members = json["m"]?.objectValue {
            var positions: [String: Position] = [:]
            for (key, value) in members {
                guard let pair = value.arrayValue, pair.count == 2, let count = pair[0].intValue, count >= 0 else {
                    return nil
                }
                positions[key] = Position(count: count, lastIndex: pair[1].intValue)
            }
            metrics = positions
        }
        self.init(run: run, logs: logs, metrics: metrics, record: record, status: status)
    }

    init(run: String, logs: Int, metrics: [String: Position]?, record: String, status: String) {
        self.run = run
        self.logs = logs
        self.metrics = metrics
        self.record = record
        self.status = status
    }

    /// A short, stable digest of what a `run` event shows that is not a metric: status, end, name,
    /// description, summary, params, tags and links (64-bit FNV-1a of their JSON, in hex).
    static func digest(_ details: RunDetails) -> String {
        let run = details.run
        let value: JSONValue = [
            "status": .string(run.status.rawValue),
            "ended": run.endedAt.map { .string(Timestamp.string($0)) } ?? .null,
            "name": .string(run.name),
            "description": run.description.map(JSONValue.string) ?? .null,
            "summary": .object(run.summary),
            "params": .object(details.params),
            "tags": .object(details.tags.mapValues(JSONValue.string)),
            "links": .array(details.links.map { [.string($0.label), .string($0.url)] }),
        ]
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in JSONWriter.bytes(value) {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
