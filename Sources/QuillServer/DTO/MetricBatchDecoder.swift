import Foundation
import QuillCore
import QuillStore

/// Decodes the batch endpoint's common body, `{"metrics": [{"key", "value", "step", "idx", "timestamp"}, …]}`,
/// straight from its bytes into ``MetricValue``s: no `JSONValue` tree, no dictionary per metric.
///
/// It is a fast path only. For any other shape (other members, escapes in strings, a field of an
/// unexpected type, duplicate fields, malformed JSON) it returns `nil` and the caller parses the body with
/// ``JSONParser`` and ``LogBatchReader``, which accept or refuse it with a message naming the field (an
/// `idx` or `step` outside ``MetricBounds`` goes that way too). Keys are given in NFC. So
/// every body it accepts decodes to exactly what the general path would give, except that metrics without
/// a timestamp share one time, `now`.
struct MetricBatchDecoder: ~Copyable {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let base: UnsafePointer<UInt8>
    private var position = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, base: UnsafePointer<UInt8>) {
        self.bytes = bytes
        self.base = base
    }

    /// The metrics of a body that has only a `metrics` array, or `nil` when the general path must decide.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, now: Date) -> [MetricValue]? {
        guard let base = bytes.baseAddress else { return nil }
        var decoder = MetricBatchDecoder(bytes, base: base)
        return decoder.body(now: now)
    }

    private mutating func body(now: Date) -> [MetricValue]? {
        guard take(UInt8(ascii: "{")), name() == .metrics, take(UInt8(ascii: ":")), take(UInt8(ascii: "[")) else {
            return nil
        }
        var metrics: [MetricValue] = []
        metrics.reserveCapacity(bytes.count / 48)
        var lastKey: (start: Int, count: Int, text: String)?
        if !take(UInt8(ascii: "]")) {
            repeat {
                guard let metric = metric(now: now, lastKey: &lastKey) else { return nil }
                metrics.append(metric)
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "]")) else { return nil }
        }
        guard take(UInt8(ascii: "}")) else { return nil }
        skipWhitespace()
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
        guard take(UInt8(ascii: "{")) else { return nil }
        var seen: UInt8 = 0
        var key: String?
        var value: Double?
        var step: Int?
        var index: Int?
        var timestamp: Date?
        repeat {
            guard let field = name(), field != .metrics, seen & field.rawValue == 0, take(UInt8(ascii: ":")) else {
                return nil
            }
            seen |= field.rawValue
            skipWhitespace()
            switch field {
            case .key:
                guard let (start, count) = plainString(), count > 0 else { return nil }
                if let last = lastKey, last.count == count,
                    memcmp(base + last.start, base + start, count) == 0
                {
                    key = last.text
                } else {
                    let text = MetricBounds.normalizedKey(
                        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<start + count]), as: UTF8.self)
                    )
                    lastKey = (start, count, text)
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
                if word("null") { continue }
                guard let (start, count) = plainString(),
                    let micros = Timestamp.parseMicroseconds(Array(bytes[start..<start + count]))
                else { return nil }
                timestamp = Timestamp.date(microseconds: micros)
            case .metrics:
                return nil
            }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")), let key, let value else { return nil }
        return MetricValue(key: key, value: value, step: step, timestamp: timestamp ?? now, index: index)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// Skips white space, then takes `byte` when it comes next.
    private mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func word(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count, memcmp(base + position, text.utf8Start, count) == 0 else {
            return false
        }
        position += count
        return true
    }

    /// A member name this decoder knows, or `nil`.
    private mutating func name() -> Field? {
        skipWhitespace()
        guard let (offset, count) = plainString() else { return nil }
        let start = base + offset
        func equals(_ text: StaticString) -> Bool {
            count == text.utf8CodeUnitCount && memcmp(start, text.utf8Start, count) == 0
        }
        if equals("key") { return .key }
        if equals("value") { return .value }
        if equals("step") { return .step }
        if equals("idx") { return .idx }
        if equals("timestamp") { return .timestamp }
        if equals("metrics") { return .metrics }
        return nil
    }

    /// A string without escapes or control characters, as the range of its bytes.
    private mutating func plainString() -> (start: Int, count: Int)? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        let start = position + 1
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                position = end + 1
                return (start, end - start)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            end += 1
        }
        return nil
    }

    /// An integer, or `null` as `.some(nil)`; `nil` for anything else (fractions and exponents included).
    private mutating func optionalInt() -> Int?? {
        if word("null") { return .some(nil) }
        guard let (start, end, integer) = numberExtent(), integer else { return nil }
        var negative = false
        var index = start
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var magnitude = 0
        while index < end {
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
            guard let (start, count) = plainString() else { return nil }
            return JSONValue.nonFiniteDouble(
                String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<start + count]), as: UTF8.self)
            )
        }
        guard let (start, end, _) = numberExtent() else { return nil }
        return Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
    }

    /// Scans a JSON number (strict grammar), returning its byte range and whether it is an integer.
    private mutating func numberExtent() -> (start: Int, end: Int, integer: Bool)? {
        guard let (end, integer) = JSONNumberScanner.scan(bytes, from: position) else { return nil }
        defer { position = end }
        return (position, end, integer)
    }
}
