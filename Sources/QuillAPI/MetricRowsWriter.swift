import Foundation
import QuillCore

/// Writes `metrics.jsonl` lines as the body of `POST /api/v1/runs/{id}/batch` in the `rows` shape of
/// ``APIBatch``, `{"rows":[{"_idx":…,"_timestamp":"…","step":…,"<key>":<value>,…},…]}`: the SDK's uploader
/// sends metrics this way.
///
/// Every row leaves in one canonical form, whatever the line looked like: `_idx` first (the line's own, or
/// the one ``MetricsFile/read(_:)`` gives a row without it: the previous row's plus one, counting from 0),
/// then `_timestamp` when the line has a valid one, `step` when it has one, then each metric whose value is
/// a number or one of the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (in that spelling); other members
/// are left out, as readers leave them out. A row without metrics is not written.
///
/// A plain line (names and strings without escapes, numbers in strict JSON grammar, integer `_idx` and
/// `step`, no repeated name) is written from its bytes without a `JSONValue` tree and without allocating:
/// numbers are copied as written, so the server parses exactly the digits the writer wrote. Any other line
/// goes through ``JSONParser`` and leaves with the same meaning. The bytes are what ``APIDecoder`` decodes
/// into ``APIBatch`` and, for a body of plain lines, what the server's fast batch decoder reads (both tested).
package struct MetricRowsWriter {
    /// The body so far: `{"rows":[` and the rows, without the closing `]}`.
    private var body: [UInt8] = []
    /// Metric points written since the body started.
    package private(set) var points = 0
    /// Rows written since the body started.
    package private(set) var rows = 0
    /// Added to every row's `_idx` as it is written (the numbering the line implies is unchanged, so the
    /// returned next index is the line's own); a sum past `Int.max` is written as `Int.max`. A job's worker
    /// sets it per attempt, so a later attempt's rows never share an index with an earlier one's.
    package var indexBase = 0
    private let capacity: Int
    // Scratch space of the line scanner, kept between lines so a line allocates nothing.
    private var names: [Range<Int>] = []
    private var metrics: [(key: Range<Int>, value: Range<Int>)] = []

    private static let prefix: StaticString = #"{"rows":["#

    /// A writer whose bodies start with room for `capacity` bytes.
    package init(capacity: Int) {
        self.capacity = capacity
        start()
    }

    /// The bytes written so far, the enclosing `{"rows":[` and `]}` included.
    package var byteCount: Int { body.count + 2 }

    /// The finished body; the writer starts a new, empty one.
    package mutating func finish() -> [UInt8] {
        body.append(UInt8(ascii: "]"))
        body.append(UInt8(ascii: "}"))
        let done = body
        start()
        return done
    }

    private mutating func start() {
        body = []
        body.reserveCapacity(capacity)
        append(Self.prefix)
        points = 0
        rows = 0
    }

    /// Appends one line (without its newline).
    ///
    /// - Returns: The index the next row without `_idx` gets, or `nil` when the line is not a JSON object
    ///   (nothing is written then).
    package mutating func append(line: UnsafeBufferPointer<UInt8>, next: Int) -> Int? {
        guard let base = line.baseAddress else { return nil }
        names.removeAll(keepingCapacity: true)
        metrics.removeAll(keepingCapacity: true)
        var scanner = LineScanner(cursor: JSONByteCursor(bytes: line, base: base))
        if let row = scanner.row(names: &names, metrics: &metrics) {
            return emit(row, line: line, next: next)
        }
        return slowAppend(line: line, next: next)
    }

    /// Writes a scanned plain row: the room it can need is made once, then filled through a pointer.
    private mutating func emit(_ row: LineScanner.Row, line: UnsafeBufferPointer<UInt8>, next: Int) -> Int {
        let index = row.index ?? next
        guard !metrics.isEmpty, let source = line.baseAddress else { return Self.after(index) }
        // Every range copied is a distinct part of the line; around them come at most the separator, the
        // brace and `"_idx":` with 20 digits, the `_timestamp` and `step` names, and 4 bytes per metric.
        let room = line.count + 64 + 4 * metrics.count
        let start = body.count
        let rowIndex = written(index)
        body.append(contentsOf: repeatElement(0, count: room))
        let used = body.withUnsafeMutableBufferPointer { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            var out = RowOutput(start: base + start, source: source)
            if rows > 0 { out.byte(UInt8(ascii: ",")) }
            out.text(#"{"_idx":"#)
            out.decimal(rowIndex)
            if let time = row.timestamp {
                out.text(#","_timestamp":""#)
                out.copy(time)
                out.byte(UInt8(ascii: "\""))
            }
            if let step = row.step {
                out.text(#","step":"#)
                out.copy(step)
            }
            for metric in metrics {
                out.text(#",""#)
                out.copy(metric.key)
                out.text(#"":"#)
                out.copy(metric.value)
            }
            out.byte(UInt8(ascii: "}"))
            return out.cursor - (base + start)
        }
        assert(used <= room, "a row outgrew its room")
        body.removeLast(room - used)
        rows += 1
        points += metrics.count
        return Self.after(index)
    }

    /// A line the scanner does not take (escapes, bare `NaN`, a fractional `_idx`, a repeated name, …):
    /// parsed into a tree.
    private mutating func slowAppend(line: UnsafeBufferPointer<UInt8>, next: Int) -> Int? {
        guard case .object(let members) = try? JSONParser.parse(buffer: line) else { return nil }
        let index = members["_idx"]?.intValue ?? next
        var values: [(key: String, value: Double)] = []
        for (key, value) in members where !MetricsFile.reservedKeys.contains(key) {
            if let number = value.doubleValue { values.append((key, number)) }
        }
        guard !values.isEmpty else { return Self.after(index) }
        openRow(written(index))
        if let text = members["_timestamp"]?.stringValue, Timestamp.parseMicroseconds(Array(text.utf8)) != nil {
            append(#","_timestamp":"#)
            JSONWriter.write(.string(text), into: &body, indent: nil, level: 0)
        }
        if let step = members["step"]?.intValue {
            append(#","step":"#)
            Self.appendDecimal(step, to: &body)
        }
        for (key, number) in values.sorted(by: { $0.key < $1.key }) {
            body.append(UInt8(ascii: ","))
            JSONWriter.write(.string(key), into: &body, indent: nil, level: 0)
            body.append(UInt8(ascii: ":"))
            if number.isFinite {
                JSONWriter.write(.double(number), into: &body, indent: nil, level: 0)
            } else {
                append(number.isNaN ? #""NaN""# : (number > 0 ? #""Infinity""# : #""-Infinity""#))
            }
        }
        body.append(UInt8(ascii: "}"))
        points += values.count
        return Self.after(index)
    }

    /// The `_idx` written for a row numbered `index`: shifted by ``indexBase``.
    private func written(_ index: Int) -> Int {
        let (sum, overflow) = index.addingReportingOverflow(indexBase)
        return overflow ? (indexBase > 0 ? Int.max : Int.min) : sum
    }

    /// Starts a row: its separator, the brace and `"_idx":index`.
    private mutating func openRow(_ index: Int) {
        if rows > 0 { body.append(UInt8(ascii: ",")) }
        append(#"{"_idx":"#)
        Self.appendDecimal(index, to: &body)
        rows += 1
    }

    private mutating func append(_ text: StaticString) {
        body.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `value` in decimal, without making a `String`.
    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        let end = bytes.count + digits
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        var position = end - 1
        while magnitude > 0 {
            bytes[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            position -= 1
        }
    }

    /// The index after `index`; the largest index is followed by itself, as readers number rows.
    package static func after(_ index: Int) -> Int {
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
    }

    var cursor: JSONByteCursor
    var bytes: UnsafeBufferPointer<UInt8> { cursor.bytes }
    var base: UnsafePointer<UInt8> { cursor.base }
    var position: Int { cursor.position }

    /// The row's reserved members; its metrics go to `metrics` as the ranges of their names and values (a
    /// non-finite value with its quotes). `names` collects the names seen, to find a repeated one.
    mutating func row(names: inout [Range<Int>], metrics: inout [(key: Range<Int>, value: Range<Int>)]) -> Row? {
        var row = Row()
        guard cursor.take(UInt8(ascii: "{")) else { return nil }
        if !cursor.take(UInt8(ascii: "}")) {
            repeat {
                cursor.skipWhitespace()
                guard let name = cursor.plainString(), cursor.take(UInt8(ascii: ":")) else { return nil }
                // Repeated names: the parser decides which one counts.
                for seen in names where seen.count == name.count {
                    if memcmp(base + seen.lowerBound, base + name.lowerBound, name.count) == 0 { return nil }
                }
                names.append(name)
                cursor.skipWhitespace()
                guard member(name, into: &row, metrics: &metrics) else { return nil }
            } while cursor.take(UInt8(ascii: ","))
            guard cursor.take(UInt8(ascii: "}")) else { return nil }
        }
        cursor.skipWhitespace()
        return position == bytes.count ? row : nil
    }

    private func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
        range.count == text.utf8CodeUnitCount && memcmp(base + range.lowerBound, text.utf8Start, range.count) == 0
    }

    /// Reads one member's value; `false` when the line is not plain.
    private mutating func member(
        _ name: Range<Int>,
        into row: inout Row,
        metrics: inout [(key: Range<Int>, value: Range<Int>)]
    ) -> Bool {
        guard position < bytes.count else { return false }
        let first = bytes[position]
        if first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) {
            guard let (range, integer) = cursor.number() else { return false }
            if equals(name, "_idx") || equals(name, "step") {
                guard integer, let value = Self.int(bytes, range) else { return false }
                if equals(name, "_idx") { row.index = value } else { row.step = range }
            } else if !equals(name, "_timestamp") {
                metrics.append((name, range))
            }
            return true
        }
        if first == UInt8(ascii: "\"") {
            guard let range = cursor.plainString() else { return false }
            if equals(name, "_timestamp") {
                if Timestamp.parseMicroseconds(UnsafeBufferPointer(rebasing: bytes[range])) != nil {
                    row.timestamp = range
                }
                return true
            }
            if equals(name, "_idx") || equals(name, "step") { return false }  // the parser decides
            if equals(range, "NaN") || equals(range, "Infinity") || equals(range, "-Infinity") {
                metrics.append((name, (range.lowerBound - 1)..<(range.upperBound + 1)))  // with its quotes
                return true
            }
            // Other spellings of the non-finite numbers ("nan", "inf", …) take the slow path, which writes
            // the canonical one; any other text is not a number, which readers ignore.
            guard range.count <= 9 else { return true }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            return JSONValue.nonFiniteDouble(text) == nil
        }
        if cursor.word("null") || cursor.word("true") || cursor.word("false") {
            // Not a number: readers ignore it (`_idx` and `step` as booleans: the parser decides).
            return !(first != UInt8(ascii: "n") && (equals(name, "_idx") || equals(name, "step")))
        }
        return false  // nested values and bare NaN go the slow way
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

/// Writes a row's bytes into room made for them beforehand.
private struct RowOutput {
    var cursor: UnsafeMutablePointer<UInt8>
    let source: UnsafePointer<UInt8>

    init(start: UnsafeMutablePointer<UInt8>, source: UnsafePointer<UInt8>) {
        cursor = start
        self.source = source
    }

    mutating func byte(_ value: UInt8) {
        cursor.pointee = value
        cursor += 1
    }

    mutating func text(_ text: StaticString) {
        cursor.update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        cursor += text.utf8CodeUnitCount
    }

    /// Copies bytes of the line.
    mutating func copy(_ range: Range<Int>) {
        cursor.update(from: source + range.lowerBound, count: range.count)
        cursor += range.count
    }

    mutating func decimal(_ value: Int) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        var position = cursor + (digits - 1)
        repeat {
            position.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            position -= 1
        } while magnitude > 0
        cursor += digits
    }
}
