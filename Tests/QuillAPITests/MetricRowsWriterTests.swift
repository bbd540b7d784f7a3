import Foundation
import QuillAPI
import QuillCore
import Testing

@Suite("MetricRowsWriter: metrics.jsonl lines as a batch body in the rows shape")
struct MetricRowsWriterTests {
    /// Writes `lines` into one body and returns it with the index after the last row.
    static func body(_ lines: [String], next: Int = 0) -> (body: [UInt8], next: Int, points: Int) {
        var writer = MetricRowsWriter(capacity: 1024)
        var next = next
        for line in lines {
            let bytes = Array(line.utf8)
            let after = bytes.withUnsafeBufferPointer { writer.append(line: $0, next: next) }
            guard let after else {
                Issue.record("not taken: \(line)")
                continue
            }
            next = after
        }
        let points = writer.points
        return (writer.finish(), next, points)
    }

    /// The rows as readers read them from a file holding `lines`.
    static func read(_ lines: [String]) throws -> [MetricRow] {
        let path = NSTemporaryDirectory() + "/quill-rows-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
        return try MetricsFile.read(path).rows
    }

    static func same(_ a: Double?, _ b: Double?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
    }

    /// Lines of every kind the uploader meets: plain ones the fast path copies and others the parser reads.
    static let lines: [String] = [
        #"{"_idx":0,"_timestamp":"2026-11-29T12:00:00.000001Z","step":0,"loss":2.5,"acc":0.125}"#,
        #"{"_idx":1,"_timestamp":"2026-11-29T12:00:00.5Z","step":-7,"loss":"NaN","acc":"Infinity","lr":"-Infinity"}"#,
        #"{"step":2,"loss":-0.0,"tiny":5e-324,"huge":1.7976931348623157e308,"neg":-2.2250738585072014e-308}"#,
        #"{"step":3,"loss":0.30000000000000004,"int":123456789012345678,"exp":1E-7}"#,
        #"{"_idx":10,"λ/损失":1.5,"ключ":2,"emoji 🙂":3}"#,
        #"{"_idx":11,"\u03bb":1.5,"esc\"aped":2}"#,
        #"{"_idx":12,"loss":NaN,"acc":Infinity,"lr":-Infinity}"#,
        #"{"_idx":13,"loss":"nan","acc":"inf","lr":"-inf","gain":"+Infinity"}"#,
        #"{"_idx":14,"note":"text","flag":true,"off":false,"gone":null,"nested":{"a":1},"list":[1],"loss":1}"#,
        #"  { "_idx" : 15 , "_timestamp" : "not a time" , "step" : null , "loss" : 4 }  "#,
        #"{"_idx":16,"_timestamp":null,"loss":1,"loss":2}"#,
        #"{"_idx":17.0,"step":4.0,"loss":1}"#,
        #"{"_idx":18,"note":"only text"}"#,
        #"{}"#,
        #"{"_idx":20,"step":9007199254740991,"loss":1}"#,
        #"{"_idx":21,"step":-9007199254740991,"loss":1}"#,
        #"{"_idx":22,"_timestamp":"2026-11-29 12:00:00+02:00","loss":1}"#,
    ]

    @Test("every kind of line decodes with APIDecoder to what readers read: index, step, time, exact values")
    func decodesAsReadersRead() throws {
        let (body, next, points) = Self.body(Self.lines)
        let batch = try APIDecoder().decode(APIBatch.self, from: body)
        #expect(batch.metrics == nil && batch.params == nil && batch.logs == nil)
        let sent = try #require(batch.rows)
        let read = try Self.read(Self.lines)
        // Rows without metrics are not sent.
        let expected = read.filter { !$0.values.isEmpty }
        try #require(sent.count == expected.count, "\(String(decoding: body, as: UTF8.self))")
        #expect(points == expected.reduce(0) { $0 + $1.values.count })
        #expect(next == 23)
        for (row, local) in zip(sent, expected) {
            #expect(row.idx == local.index)
            #expect(row.step == local.step, "row \(local.index)")
            if local.timestamp != Date(timeIntervalSince1970: 0) {
                #expect(row.timestamp == local.timestamp, "row \(local.index)")
            } else {
                #expect(row.timestamp == nil, "row \(local.index)")
            }
            #expect(Set(row.values.keys) == Set(local.values.keys), "row \(local.index)")
            for (key, value) in local.values {
                #expect(
                    Self.same(row.values[key], value),
                    "row \(local.index) \(key): \(String(describing: row.values[key])) vs \(value)"
                )
            }
        }
        // Spot checks of what matters most.
        #expect(sent[1].values["loss"]?.isNaN == true)
        #expect(sent[1].values["lr"] == -.infinity)
        #expect(sent[2].values["loss"]?.sign == .minus)
        #expect(sent[2].values["tiny"] == .leastNonzeroMagnitude)
        #expect(sent[2].idx == 2)
        #expect(sent[4].values["λ/损失"] == 1.5)
        #expect(sent[5].values["λ"] == 1.5)
        #expect(sent[5].values["esc\"aped"] == 2)
        #expect(sent[7].values["gain"] == .infinity)
    }

    @Test("plain lines keep their bytes: numbers as written, one canonical row form")
    func plainLinesKeepTheirBytes() {
        let (body, _, _) = Self.body(
            [
                #"{"_idx":0,"_timestamp":"2026-11-29T12:00:00.000001Z","step":0,"loss":2.5,"acc":0.125}"#,
                #"{ "step": 5, "loss": 1.0000000000000002e-300, "x": "NaN", "t": "text" }"#,
            ],
            next: 0
        )
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"rows":[{"_idx":0,"_timestamp":"2026-11-29T12:00:00.000001Z","step":0,"loss":2.5,"acc":0.125},"#
                + #"{"_idx":1,"step":5,"loss":1.0000000000000002e-300,"x":"NaN"}]}"#
        )
    }

    @Test("the largest integers: _idx and steps are copied exactly; the API refuses what is out of bounds")
    func extremeIntegers() throws {
        let (maxIndex, next, _) = Self.body([#"{"_idx":9223372036854775807,"loss":1}"#, #"{"loss":2}"#])
        #expect(next == Int.max)  // the largest index is followed by itself, as readers number rows
        #expect(String(decoding: maxIndex, as: UTF8.self).contains(#"{"_idx":9223372036854775807,"loss":2}"#))
        #expect(throws: QuillError.self) { try APIDecoder().decode(APIBatch.self, from: maxIndex) }

        for step in [Int64.max, Int64.min] {
            let (body, _, _) = Self.body([#"{"_idx":0,"step":\#(step),"loss":1}"#])
            #expect(String(decoding: body, as: UTF8.self) == #"{"rows":[{"_idx":0,"step":\#(step),"loss":1}]}"#)
            do {
                _ = try APIDecoder().decode(APIBatch.self, from: body)
                Issue.record("step \(step) accepted")
            } catch let error as QuillError {
                #expect(error.message.contains("step"), "\(error.message)")
            }
        }
        // An _idx beyond Int goes through the parser; readers number that row as the next one.
        let (huge, _, _) = Self.body([#"{"_idx":99999999999999999999,"loss":1}"#], next: 4)
        #expect(try APIDecoder().decode(APIBatch.self, from: huge).rows?.first?.idx == 4)
    }

    @Test("the tightest rows: the longest index, many one-letter metrics, an empty line's worth of members")
    func tightRows() throws {
        let many = (0..<300).map { #""\#($0 % 10)\#($0 / 10)":\#($0 % 7)"# }.joined(separator: ",")
        let lines = [
            #"{"_idx":-9223372036854775808,"a":1}"#, #"{"a":1}"#, "{\(many)}", #"{"_idx":0,"step":0,"b":"NaN"}"#,
        ]
        let (body, next, points) = Self.body(lines)
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.hasPrefix(#"{"rows":[{"_idx":-9223372036854775808,"a":1},{"_idx":-9223372036854775807,"a":1},"#))
        #expect(text.hasSuffix(#",{"_idx":0,"step":0,"b":"NaN"}]}"#))
        #expect(next == 1)
        #expect(points == 303)
        // The index is out of bounds for the API; the rest of the body is well formed JSON.
        let parsed = try JSONParser.parse(body)
        #expect(parsed["rows"]?.arrayValue?[2].objectValue?.count == 301)
        #expect(parsed["rows"]?.arrayValue?[2]["_idx"] == .int(Int.min + 2))
    }

    @Test("a line that is not a JSON object is refused and writes nothing")
    func malformedLines() {
        var writer = MetricRowsWriter(capacity: 64)
        for line in [#"{"loss": "#, "[1,2]", "42", #""text""#, #"{"loss":1} {"acc":2}"#, "{'loss': 1}"] {
            let bytes = Array(line.utf8)
            #expect(bytes.withUnsafeBufferPointer { writer.append(line: $0, next: 0) } == nil, "\(line)")
        }
        #expect(writer.points == 0 && writer.rows == 0)
        #expect(writer.finish() == Array(#"{"rows":[]}"#.utf8))
    }

    @Test(
        "an index base shifts every written _idx, fast and parsed lines alike; the numbering the lines imply does not move"
    )
    func indexBaseShiftsRows() throws {
        var writer = MetricRowsWriter(capacity: 1024)
        writer.indexBase = 1 << 32
        var next = 0
        for line in [#"{"step":0,"loss":1}"#, #"{"_idx":5,"loss":NaN}"#, #"{"loss":2}"#] {
            let bytes = Array(line.utf8)
            next = try #require(bytes.withUnsafeBufferPointer { writer.append(line: $0, next: next) })
        }
        #expect(next == 7)
        let rows = try JSONParser.parse(writer.finish())["rows"]?.arrayValue?.compactMap { $0["_idx"]?.intValue }
        #expect(rows == [1 << 32, (1 << 32) + 5, (1 << 32) + 6])
        writer.indexBase = Int.max
        _ = Array(#"{"_idx":3,"loss":1}"#.utf8).withUnsafeBufferPointer { writer.append(line: $0, next: 0) }
        let saturated = try JSONParser.parse(writer.finish())["rows"]?.arrayValue?.first?["_idx"]
        #expect(saturated == .int(Int.max), "saturates")
    }

    @Test("finish hands over the body and starts an empty one")
    func finishStartsOver() throws {
        var writer = MetricRowsWriter(capacity: 64)
        let line = Array(#"{"_idx":3,"loss":1}"#.utf8)
        _ = line.withUnsafeBufferPointer { writer.append(line: $0, next: 0) }
        #expect(writer.byteCount == writer.finish().count)
        #expect(writer.points == 0 && writer.rows == 0)
        _ = line.withUnsafeBufferPointer { writer.append(line: $0, next: 0) }
        #expect(try APIDecoder().decode(APIBatch.self, from: writer.finish()).rows?.count == 1)
    }
}
