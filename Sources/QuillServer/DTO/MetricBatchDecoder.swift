import Foundation
import QuillCore
import QuillStore

/// Decodes the batch endpoint's common bodies, `{"metrics": [{"key", "value", "step", "idx", "timestamp"}, …]}`
/// and `{"rows": [<metrics.jsonl line>, …]}` (what the SDK's uploader sends), straight from their bytes into
/// ``MetricValue``s: no `JSONValue` tree, no dictionary per metric.
///
/// It is a fast path only. For any other shape (other members, escapes in strings, a field of an
/// unexpected type, duplicate fields, malformed JSON) it returns `nil` and the caller decodes the body into
/// QuillAPI's `APIBatch`, which accepts or refuses it with a message naming the field (an `idx` or `step`
/// outside ``MetricBounds`` goes that way too). Keys are given in NFC. So every body it accepts decodes to
/// exactly what the general path would give (`BatchFastPathTests`), except that metrics without a
/// timestamp share one time, `now`. The SDK's bodies take this path (`RowsFastPathTests`).
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
        guard cursor.take(UInt8(ascii: "{")) else { return nil }
        let shape = name()
        guard shape == .metrics || shape == .rows, cursor.take(UInt8(ascii: ":")), cursor.take(UInt8(ascii: "["))
        else {
            return nil
        }
        var metrics: [MetricValue] = []
        metrics.reserveCapacity(bytes.count / 48)
        var lastKey: (start: Int, count: Int, text: String)?
        if !cursor.take(UInt8(ascii: "]")) {
            repeat {
                if shape == .rows {
                    guard row(now: now, into: &metrics) else { return nil }
                } else {
                    guard let metric = metric(now: now, lastKey: &lastKey) else { return nil }
                    metrics.append(metric)
                }
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
        case rows = 64
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
            guard let field = name(), field != .metrics, field != .rows, seen & field.rawValue == 0,
                cursor.take(UInt8(ascii: ":"))
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
            case .metrics, .rows:
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
        if equals("rows") { return .rows }
        return nil
    }

    /// One `metrics.jsonl` line of a `rows` body, `{"_idx", "_timestamp", "step", "<key>": value, …}`:
    /// its metrics appended to `metrics`, or `false` when the general path must decide (escapes, other
    /// values than numbers, the non-finite strings and null, a repeated name, an index or step out of bounds).
    private mutating func row(now: Date, into metrics: inout [MetricValue]) -> Bool {
        guard cursor.take(UInt8(ascii: "{")) else { return false }
        var index: Int?
        var step: Int?
        var timestamp: Date?
        var values: [(name: Range<Int>, value: Double)] = []
        var names: [Range<Int>] = []
        if !cursor.take(UInt8(ascii: "}")) {
            repeat {
                cursor.skipWhitespace()
                guard let name = cursor.plainString(), !name.isEmpty, cursor.take(UInt8(ascii: ":")) else {
                    return false
                }
                for seen in names where seen.count == name.count {
                    if memcmp(base + seen.lowerBound, base + name.lowerBound, name.count) == 0 { return false }
                }
                names.append(name)
                cursor.skipWhitespace()
                if equals(name, "_idx") {
                    guard let number = optionalInt(), number.map(MetricBounds.indexes.contains) ?? true else {
                        return false
                    }
                    index = number
                } else if equals(name, "step") {
                    guard let number = optionalInt(), number.map(MetricBounds.steps.contains) ?? true else {
                        return false
                    }
                    step = number
                } else if equals(name, "_timestamp") {
                    if cursor.word("null") { continue }
                    guard let string = cursor.plainString(),
                        let micros = Timestamp.parseMicroseconds(Array(bytes[string]))
                    else { return false }
                    timestamp = Timestamp.date(microseconds: micros)
                } else if cursor.word("null") {
                    continue
                } else {
                    guard let number = double() else { return false }
                    values.append((name, number))
                }
            } while cursor.take(UInt8(ascii: ","))
            guard cursor.take(UInt8(ascii: "}")) else { return false }
        }
        for (name, value) in values {
            let key = MetricBounds.normalizedKey(
                String(decoding: UnsafeBufferPointer(rebasing: bytes[name]), as: UTF8.self)
            )
            metrics.append(MetricValue(key: key, value: value, step: step, timestamp: timestamp ?? now, index: index))
        }
        return true
    }

    private func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
        range.count == text.utf8CodeUnitCount && memcmp(base + range.lowerBound, text.utf8Start, range.count) == 0
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
