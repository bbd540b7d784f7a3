import Foundation
import QuillCore
import Testing

/// Issue 9, item 10: one spelling of a key on disk and on the server (NFC), and the query language's
/// field keys in the same form.
@Suite("Keys in NFC")
struct KeyNormalizationTests {
    static let nfc = "caf\u{E9}"
    static let nfd = "cafe\u{301}"

    @Test("the SDK's row encoder writes keys in NFC; ASCII keys are unchanged")
    func rowEncoderWritesNFC() throws {
        let encoder = RowEncoder(capacity: 16)
        encoder.appendRow(index: 0, microseconds: 0, step: nil, pairs: [Self.nfd: 1, "loss": 2])
        let text = String(decoding: encoder.bytes, as: UTF8.self)
        #expect(text.utf8.elementsEqual(text.precomposedStringWithCanonicalMapping.utf8))
        #expect(text.contains(#""loss":2"#))
        #expect(text.unicodeScalars.contains("\u{E9}"))
        #expect(!text.unicodeScalars.contains("\u{301}"))
        #expect(MetricBounds.normalizedKey("train/loss") == "train/loss")
        #expect(Array(MetricBounds.normalizedKey(Self.nfd).utf8) == Array(Self.nfc.utf8))
    }

    @Test("query field keys are read in NFC")
    func queryKeysNFC() throws {
        let query = try RunQuery(
            parsing: "metrics.`\(Self.nfd)`.min < 1 and params.`\(Self.nfd)` = 2 and tags.`\(Self.nfd)` = x"
        )
        guard case .and(let terms) = query.expression else {
            Issue.record("expected an and, got \(query.expression)")
            return
        }
        for term in terms {
            guard case .comparison(let field, _, _) = term else { continue }
            let key: String
            switch field {
            case .metric(let name, _): key = name
            case .param(let name), .tag(let name), .summary(let name): key = name
            case .attribute(let name): key = name
            }
            #expect(Array(key.utf8) == Array(Self.nfc.utf8))
        }
    }
}
