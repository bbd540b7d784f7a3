import Foundation
import QuillAPI
import QuillCore
import QuillStore
import Testing

@testable import QuillServer

@Suite("The SDK's rows bodies (MetricRowsWriter) take the server's fast decoder")
struct RowsFastPathTests {
    /// The body the SDK's uploader sends for `lines`.
    static func body(_ lines: [String]) -> [UInt8] {
        var writer = MetricRowsWriter(capacity: 1024)
        var next = 0
        for line in lines {
            let bytes = Array(line.utf8)
            if let after = bytes.withUnsafeBufferPointer({ writer.append(line: $0, next: next) }) { next = after }
        }
        return writer.finish()
    }

    /// A point as a comparable value (NaN compared by being NaN).
    struct Point: Hashable {
        var key: String
        var bits: UInt64
        var step: Int?
        var micros: Int64
        var index: Int?

        init(_ metric: MetricValue) {
            key = metric.key
            bits = metric.value.isNaN ? Double.nan.bitPattern : metric.value.bitPattern
            step = metric.step
            micros = Timestamp.microseconds(metric.timestamp)
            index = metric.index
        }
    }

    @Test("plain lines, NaN and the infinities, -0.0, extremes, unicode keys, escaped keys: fast path equals APIBatch")
    func fastPathTakesWriterOutput() throws {
        let lines = [
            #"{"_idx":0,"_timestamp":"2026-11-29T12:00:00.000001Z","step":0,"loss":2.5,"acc":0.125}"#,
            #"{"_idx":1,"_timestamp":"2026-11-29T12:00:01Z","step":-9007199254740991,"loss":"NaN","acc":"Infinity","lr":"-Infinity"}"#,
            #"{"step":9007199254740991,"loss":-0.0,"tiny":5e-324,"huge":1.7976931348623157e308,"int":123456789012345678}"#,
            #"{"_idx":9007199254740991,"λ/损失":1.5,"e\#u{301}":2,"note":"text","flag":true,"gone":null}"#,
            #"{"_idx":4,"\u03bb":1.5,"loss":NaN,"acc":"-inf"}"#,  // escapes and bare NaN: written by the slow path
            #"{"_idx":5,"_timestamp":"yesterday","loss":1,"loss":2}"#,
        ]
        let body = Self.body(lines)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let fast = try #require(
            body.withUnsafeBufferPointer { MetricBatchDecoder.decode($0, now: now) },
            "the fast decoder refused \(String(decoding: body, as: UTF8.self))"
        )
        let general = try LogBatchReader.batch(APIDecoder().decode(APIBatch.self, from: body), now: now)
        #expect(fast.count == 15)
        #expect(Set(fast.map(Point.init)) == Set(general.metrics.map(Point.init)))
        #expect(fast.count == general.metrics.count)
        // The values the writer copied are the ones the line holds.
        let byKey = Dictionary(fast.map { ("\($0.key)@\($0.index ?? -1)", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byKey["loss@1"]?.value.isNaN == true)
        #expect(byKey["lr@1"]?.value == -.infinity)
        #expect(byKey["loss@2"]?.value.bitPattern == (-0.0 as Double).bitPattern)
        #expect(byKey["tiny@2"]?.value == .leastNonzeroMagnitude)
        #expect(byKey["\u{E9}@9007199254740991"]?.value == 2)  // NFC on the server
        #expect(byKey["λ@4"]?.value == 1.5)
        #expect(byKey["acc@4"]?.value == -.infinity)
        // A repeated name: the parser's choice, as readers make it.
        #expect(byKey["loss@5"]?.value == (try JSONParser.parse(Array(lines[5].utf8)))["loss"]?.doubleValue)
        #expect(byKey["loss@5"]?.timestamp == now)
        #expect(byKey["loss@0"]?.timestamp == Timestamp.date(microseconds: 1_795_953_600_000_001))
    }
}
