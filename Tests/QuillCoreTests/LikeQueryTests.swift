import Foundation
import QuillCore
import Testing

@Suite("like and ilike in the run query language")
struct LikeQueryTests {
    @Test("% matches any run, _ one character, a backslash escapes, the whole text must match")
    func likeSemantics() {
        let cases: [(String, String, Bool)] = [
            ("adam", "adam", true), ("adam", "a%", true), ("adam", "%m", true), ("adam", "%d%", true),
            ("adam", "a_am", true), ("adam", "a_m", false), ("adam", "_", false), ("", "", true), ("", "%", true),
            ("", "_", false), ("adam", "Adam", false), ("a%b", "a\\%b", true), ("axb", "a\\%b", false),
            ("a_b", "a\\_b", true), ("axb", "a\\_b", false), ("a\\b", "a\\\\b", true), ("été", "_t_", true),
            ("été", "%t%", true), ("aaa", "%%a", true), ("abcabc", "%abc", true), ("abcab", "%abc", false),
            ("x", "x\\", false), ("x\\", "x\\", true), ("line\nbreak", "line%", true),
        ]
        for (text, pattern, expected) in cases {
            #expect(LikePattern.matches(text, pattern, caseInsensitive: false) == expected, "\(text) like \(pattern)")
        }
        #expect(LikePattern.matches("Adam", "adam", caseInsensitive: true))
        #expect(LikePattern.matches("ÉTÉ", "été", caseInsensitive: true))
        #expect(!LikePattern.matches("ÉTÉ", "été", caseInsensitive: false))
        #expect(LikePattern.matches("100%_sure", LikePattern.escaped("100%_sure"), caseInsensitive: false))
        #expect(!LikePattern.matches("100x-sure", LikePattern.escaped("100%_sure"), caseInsensitive: false))
    }

    @Test("like and ilike parse, evaluate on text and render back")
    func parseAndRender() throws {
        let query = try RunQuery(parsing: "name like 'res%' and tags.team ILIKE \"VIS%\"")
        #expect(
            query.expression
                == .and([
                    .comparison(.attribute("name"), .like, [.text("res%")]),
                    .comparison(.tag("team"), .ilike, [.text("VIS%")]),
                ])
        )
        #expect(try RunQuery(parsing: query.description) == query)
        let escaped = try RunQuery(parsing: #"params.note like "50\\%""#)
        #expect(escaped.expression == .comparison(.param("note"), .like, [.text(#"50\%"#)]))
        #expect(try RunQuery(parsing: escaped.description) == escaped)
        #expect(throws: QuillError.self) { try RunQuery(parsing: "name like 5") }
        #expect(throws: QuillError.self) { try RunQuery(parsing: "name like") }
        // A field named like a keyword still works when quoted.
        #expect(
            try RunQuery(parsing: "params.`like` = 1").expression == .comparison(.param("like"), .equal, [.number(1)])
        )
    }
}
