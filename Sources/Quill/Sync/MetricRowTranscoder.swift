import Foundation
import QuillCore

/// Turns `metrics.jsonl` lines into elements of the batch endpoint's `metrics` array,
/// `{"key","value","step","idx","timestamp"}`, the shape the server's fast decoder reads.
///
/// A plain line (member names and strings without escapes, numbers in strict JSON grammar, integer `_idx`
/// and `step`) is transcoded byte for byte, without a `JSONValue` tree: numbers are copied as written, so
/// the server parses exactly the digits the writer wrote. Any other line goes through ``JSONParser`` and
/// leaves with the same meaning. Either way a row gets what ``MetricsFile/read(_:)`` gives it: its `_idx`,
/// or the previous row's plus one; metrics that are not numbers (or the non-finite strings) are left out.
struct MetricRowTranscoder {
    /// The elements so far, comma-separated, without the enclosing brackets.
    private(set) var output: [UInt8] = []
    /// Metric points in ``output``.
    private(set) var points = 0

    init(capacity: Int) {
        output.reserveCapacity(capacity)
    }

    /// Empties the output, keeping its storage.
    mutating func reset() {
        output.removeAll(keepingCapacity: true)
        points = 0
    }

    /// Appends the metrics of one line.
    ///
    /// - Returns: The index the next row without `_idx` gets, or `nil` when the line is not a JSON object
    ///   (nothing is appended then).
    mutating func append(line: ArraySlice<UInt8>, next: Int) -> Int? {
        let fast = line.withUnsafeBufferPointer { buffer -> Int?? in
            guard let base = buffer.baseAddress else { return .some(nil) }
            var scanner = LineScanner(bytes: buffer, base: base)
            guard let row = scanner.row() else { return .none }
            return .some(emit(row, buffer: buffer, next: next))
        }
        if let fast { return fast }
        return slowAppend(line: line, next: next)
    }

    /// Emits a scanned plain row.
    private mutating func emit(_ row: LineScanner.Row, buffer: UnsafeBufferPointer<UInt8>, next: Int) -> Int {
        let index = row.index ?? next
        var suffix: [UInt8] = []
        if let step = row.step {
            suffix.append(contentsOf: #","step":"#.utf8)
            suffix.append(contentsOf: buffer[step])
        }
        suffix.append(contentsOf: #","idx":"#.utf8)
        suffix.append(contentsOf: String(index).utf8)
        if let time = row.timestamp {
            suffix.append(contentsOf: #","timestamp":""#.utf8)
            suffix.append(contentsOf: buffer[time])
            suffix.append(UInt8(ascii: "\""))
        }
        suffix.append(UInt8(ascii: "}"))
        for metric in row.metrics {
            if !output.isEmpty { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: #"{"key":""#.utf8)
            output.append(contentsOf: buffer[metric.key])
            output.append(contentsOf: #"","value":"#.utf8)
            output.append(contentsOf: buffer[metric.value])
            output.append(contentsOf: suffix)
            points += 1
        }
        return Self.after(index)
    }

    /// A line the scanner does not take (escapes, bare `NaN`, a fractional `_idx`, …): parsed into a tree.
    private mutating func slowAppend(line: ArraySlice<UInt8>, next: Int) -> Int? {
        guard case .object(let members) = try? JSONParser.parse(line) else { return nil }
        let index = members["_idx"]?.intValue ?? next
        var common: [String: JSONValue] = ["idx": .int(index)]
        if let step = members["step"]?.intValue { common["step"] = .int(step) }
        if let text = members["_timestamp"]?.stringValue, Timestamp.parseMicroseconds(Array(text.utf8)) != nil {
            common["timestamp"] = .string(text)
        }
        for (key, value) in members where !MetricsFile.reservedKeys.contains(key) {
            guard let number = value.doubleValue else { continue }
            var metric = common
            metric["key"] = .string(key)
            metric["value"] = number.isFinite ? .double(number) : .string(Self.nonFiniteText(number))
            if !output.isEmpty { output.append(UInt8(ascii: ",")) }
            JSONWriter.write(.object(metric), into: &output, indent: nil, level: 0)
            points += 1
        }
        return Self.after(index)
    }

    private static func nonFiniteText(_ number: Double) -> String {
        number.isNaN ? "NaN" : (number > 0 ? "Infinity" : "-Infinity")
    }

    /// The index after `index`; the largest index is followed by itself, as readers number rows.
    static func after(_ index: Int) -> Int {
        let (next, overflow) = index.addingReportingOverflow(1)
        return overflow ? index : next
    }
}

/// Scans one plain `metrics.jsonl` line; `nil` means "not plain", for the caller's slow path to decide.
private struct LineScanner {
    struct Row {
        var index: Int?
        var step: Range<Int>?
        var timestamp: Range<Int>?
        var metrics: [(key: Range<Int>, value: Range<Int>)] = []
    }

    var cursor: JSONByteCursor
    var bytes: UnsafeBufferPointer<UInt8> { cursor.bytes }
    var base: UnsafePointer<UInt8> { cursor.base }
    var position: Int { cursor.position }

    init(bytes: UnsafeBufferPointer<UInt8>, base: UnsafePointer<UInt8>) {
        cursor = JSONByteCursor(bytes: bytes, base: base)
    }

    mutating func row() -> Row? {
        var row = Row()
        var names: [Range<Int>] = []
        guard cursor.take(UInt8(ascii: "{")) else { return nil }
        if !cursor.take(UInt8(ascii: "}")) {
            repeat {
                cursor.skipWhitespace()
                guard let name = cursor.plainString(), cursor.take(UInt8(ascii: ":")) else { return nil }
                // Duplicate names: the parser decides which one counts.
                for seen in names where seen.count == name.count {
                    if memcmp(base + seen.lowerBound, base + name.lowerBound, name.count) == 0 { return nil }
                }
                names.append(name)
                cursor.skipWhitespace()
                guard member(name, into: &row) else { return nil }
            } while cursor.take(UInt8(ascii: ","))
            guard cursor.take(UInt8(ascii: "}")) else { return nil }
        }
        cursor.skipWhitespace()
        return position == bytes.count ? row : nil
    }

    private func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
        range.count == text.utf8CodeUnitCount && memcmp(base + range.lowerBound, text.utf8Start, range.count) == 0
    }

    /// Reads one member's value into `row`; `false` when the line is not plain.
    private mutating func member(_ name: Range<Int>, into row: inout Row) -> Bool {
        guard position < bytes.count else { return false }
        let first = bytes[position]
        if equals(name, "_idx") || equals(name, "step") {
            if cursor.word("null") { return true }
            guard let (range, integer) = cursor.number(), integer, let value = Self.int(bytes, range) else {
                return false
            }
            if equals(name, "_idx") { row.index = value } else { row.step = range }
            return true
        }
        if equals(name, "_timestamp") {
            guard first == UInt8(ascii: "\""), let range = cursor.plainString() else { return cursor.word("null") }
            if Timestamp.parseMicroseconds(Array(bytes[range])) != nil { row.timestamp = range }
            return true
        }
        if first == UInt8(ascii: "\"") {
            guard let range = cursor.plainString() else { return false }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            if JSONValue.nonFiniteDouble(text) != nil {
                // The value goes out as a string: its quotes are part of the range.
                row.metrics.append((name, (range.lowerBound - 1)..<(range.upperBound + 1)))
            }
            return true
        }
        if first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) {
            guard let (range, _) = cursor.number() else { return false }
            row.metrics.append((name, range))
            return true
        }
        // Not a number: readers ignore it. Nested values and bare NaN go the slow way.
        return cursor.word("null") || cursor.word("true") || cursor.word("false")
    }

    /// An integer token's value, or `nil` when it does not fit in an `Int`.
    private static func int(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        var index = range.lowerBound
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var value = 0
        while index < range.upperBound {
            let digit = Int(bytes[index] &- UInt8(ascii: "0"))
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) =
                negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            index += 1
        }
        return value
    }
}
