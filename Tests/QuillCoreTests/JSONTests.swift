import Foundation
import QuillCore
import Testing

@Suite("JSON reading and writing")
struct JSONTests {
    @Test("values round-trip through the writer and parser")
    func roundTrip() throws {
        let value: JSONValue = [
            "int": 42, "negative": -7, "double": 0.1, "exp": 1.5e-300, "string": "héllo \"quoted\"\n\t\u{1}",
            "bool": true, "null": nil, "array": [1, "two", [3.5]], "nested": ["a": ["b": "c"]],
        ]
        let text = JSONWriter.string(value)
        #expect(try JSONParser.parse(text) == value)
        #expect(try JSONParser.parse(Array(JSONWriter.pretty(value))) == value)
    }

    @Test("non-finite doubles are written as strings and read back as doubles")
    func nonFinite() throws {
        let text = JSONWriter.string(["nan": .double(.nan), "inf": .double(.infinity), "ninf": .double(-.infinity)])
        #expect(text == #"{"inf":"Infinity","nan":"NaN","ninf":"-Infinity"}"#)
        let parsed = try JSONParser.parse(text)
        #expect(parsed["nan"]?.doubleValue?.isNaN == true)
        #expect(parsed["inf"]?.doubleValue == .infinity)
        #expect(parsed["ninf"]?.doubleValue == -.infinity)
    }

    @Test("bare NaN and Infinity tokens, as Python's json writes them, parse")
    func pythonTokens() throws {
        let parsed = try JSONParser.parse(#"{"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN]}"#)
        #expect(parsed["a"]?.doubleValue?.isNaN == true)
        #expect(parsed["b"]?.doubleValue == .infinity)
        #expect(parsed["c"]?.doubleValue == -.infinity)
    }

    @Test(
        "malformed documents report the offending byte",
        arguments: [
            ("{\"a\": }", 6), ("[1, 2", 5), ("{\"a\" 1}", 5), ("tru", 0), ("\"abc", 4), ("{} x", 3), ("01x", 1),
        ]
    )
    func malformed(text: String, offset: Int) {
        do {
            _ = try JSONParser.parse(text)
            Issue.record("expected a parse error for \(text)")
        } catch {
            #expect(error.offset == offset, "\(text): \(error)")
        }
    }

    @Test("unicode escapes, surrogate pairs and unpaired surrogates")
    func unicode() throws {
        #expect(try JSONParser.parse(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#""\ud83d""#) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#""\ude00""#) }
    }

    @Test("nesting deeper than the limit is refused instead of overflowing the stack")
    func deepNesting() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test("integers beyond 64 bits become doubles")
    func bigIntegers() throws {
        #expect(try JSONParser.parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
        #expect(try JSONParser.parse("9223372036854775807") == .int(Int.max))
    }

    @Test("dotted paths and flattening address nested config")
    func paths() {
        let config: JSONValue = ["optimizer": ["lr": 0.1, "betas": [0.9, 0.99]], "layers": 4]
        #expect(config.value(atPath: "optimizer.lr") == .double(0.1))
        #expect(config.flattened() == ["optimizer.lr": 0.1, "optimizer.betas": [0.9, 0.99], "layers": 4])
    }
}
