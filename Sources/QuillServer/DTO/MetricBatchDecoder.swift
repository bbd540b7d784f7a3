import Foundation
import QuillCore
import QuillStore

/// Decodes the batch endpoint's common body, `{"metrics": [{"key", "value", "step", "idx", "timestamp"}, …]}`,
/// straight from its bytes into ``MetricValue``s: no `JSONValue` tree, no dictionary per metric.
///
/// It is a fast path only. For any other shape (other members, escapes in strings, a field of an
/// unexpected type, duplicate fields, malformed JSON) it returns `nil` and the caller decodes the body into
/// QuillAPI's `APIBatch`, which accepts or refuses it with a message naming the field (an `idx` or `step`
/// outside ``MetricBounds`` goes that way too). Keys are given in NFC. So every body it accepts decodes to
/// exactly what the general path would give (`BatchFastPathTests`), except that metrics without a
/// timestamp share one time, `now`. The SDK's uploader sends this shape.
struct MetricBatchDecoder: ~Copyable {
    private var cursor: JSONByteCursor
    private var bytes: UnsafeBufferPointer<UInt8> { cursor.bytes }
    private var base: UnsafePointer<UInt8> { cursor.base }
    private var position: Int { cursor.position }

    private init(_ bytes: UnsafeBufferPointer<UInt8>, base: UnsafePointer<UInt8>) {
        cursor = JSONByteCursor(bytes: bytes, base: base)
    }

    /// The metrics of a body that has only a `metrics` array, or `nil` when the general path must decide.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, now: Date) -> [MetricValue]? {
        guard let base = bytes.baseAddress else { return nil }
        var decoder = MetricBatchDecoder(bytes, base: base)
        return decoder.body(now: now)
    }

    private mutating func body(now: Date) -> [MetricValue]? {
        guard cursor.take(UInt8(ascii: "{")), name() == .metrics, cursor.take(UInt8(ascii: ":")),
            cursor.take(UInt8(ascii: "["))
        else {
            return nil
        }
        var metrics: [MetricValue] = []
        metrics.reserveCapacity(bytes.count / 48)
        var lastKey: (start: Int, count: Int, text: String)?
        if !cursor.take(UInt8(ascii: "]")) {
            repeat {
                guard let metric = metric(now: now, lastKey: &lastKey) else { return nil }
                metrics.append(metric)
            } while cursor.take(UInt8(ascii: ","))
            guard cursor.take(UInt8(ascii: "]")) else { return nil }
        }
        guard cursor.take(UInt8(ascii: "}")) else { return nil }
        cursor.skipWhitespace()
        return position == bytes.count ? metrics : nil
    }

    private enum Field: UInt8 {
        case key = 1
        case value = 2
        case step = 4
        case timestamp = 8
        case idx = 16
        case metrics = 32
    }

    private mutating func metric(now: Date, lastKey: inout (start: Int, count: Int, text: String)?) -> MetricValue? {
        guard cursor.take(UInt8(ascii: "{")) else { return nil }
        var seen: UInt8 = 0
        var key: String?
        var value: Double?
        var step: Int?
        var index: Int?
        var timestamp: Date?
        repeat {
            guard let field = name(), field != .metrics, seen & field.rawValue == 0, cursor.take(UInt8(ascii: ":"))
            else {
                return nil
            }
            seen |= field.rawValue
            cursor.skipWhitespace()
            switch field {
            case .key:
                guard let string = cursor.plainString(), !string.isEmpty else { return nil }
                if let last = lastKey, last.count == string.count,
                    memcmp(base + last.start, base + string.lowerBound, string.count) == 0
                {
                    key = last.text
                } else {
                    let text = MetricBounds.normalizedKey(
                        String(decoding: UnsafeBufferPointer(rebasing: bytes[string]), as: UTF8.self)
                    )
                    lastKey = (string.lowerBound, string.count, text)
                    key = text
                }
            case .value:
                guard let number = double() else { return nil }
                value = number
            case .step:
                // Out of range: the general path refuses it with a message naming the field.
                guard let number = optionalInt(), number.map(MetricBounds.steps.contains) ?? true else { return nil }
                step = number
            case .idx:
                guard let number = optionalInt(), number.map(MetricBounds.indexes.contains) ?? true else { return nil }
                index = number
            case .timestamp:
                if cursor.word("null") { continue }
                guard let string = cursor.plainString(), let micros = Timestamp.parseMicroseconds(Array(bytes[string]))
                else { return nil }
                timestamp = Timestamp.date(microseconds: micros)
            case .metrics:
                return nil
            }
        } while cursor.take(UInt8(ascii: ","))
        guard cursor.take(UInt8(ascii: "}")), let key, let value else { return nil }
        return MetricValue(key: key, value: value, step: step, timestamp: timestamp ?? now, index: index)
    }

    /// A member name this decoder knows, or `nil`.
    private mutating func name() -> Field? {
        cursor.skipWhitespace()
        guard let string = cursor.plainString() else { return nil }
        func equals(_ text: StaticString) -> Bool {
            string.count == text.utf8CodeUnitCount
                && memcmp(base + string.lowerBound, text.utf8Start, string.count) == 0
        }
        if equals("key") { return .key }
        if equals("value") { return .value }
        if equals("step") { return .step }
        if equals("idx") { return .idx }
        if equals("timestamp") { return .timestamp }
        if equals("metrics") { return .metrics }
        return nil
    }

    /// An integer, or `null` as `.some(nil)`; `nil` for anything else (fractions and exponents included).
    private mutating func optionalInt() -> Int?? {
        if cursor.word("null") { return .some(nil) }
        guard let (range, integer) = cursor.number(), integer else { return nil }
        var negative = false
        var index = range.lowerBound
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var magnitude = 0
        while index < range.upperBound {
            let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[index] &- UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        return .some(negative ? -magnitude : magnitude)
    }

    /// A metric value: a number, or one of the strings "NaN", "Infinity", "-Infinity".
    private mutating func double() -> Double? {
        if position < bytes.count, bytes[position] == UInt8(ascii: "\"") {
            guard let string = cursor.plainString() else { return nil }
            return JSONValue.nonFiniteDouble(
                String(decoding: UnsafeBufferPointer(rebasing: bytes[string]), as: UTF8.self)
            )
        }
        guard let (range, _) = cursor.number() else { return nil }
        return Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
    }
}
