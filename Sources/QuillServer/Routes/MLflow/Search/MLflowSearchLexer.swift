import Foundation
import QuillAPI

/// One token of an MLflow search filter or order-by clause, as MLflow's `sqlparse`-based parser sees it.
struct MLflowSearchToken: Equatable {
    enum Kind: Equatable {
        /// A name with dotted parts, each bare, `backquoted` or `"double-quoted"`; `raw` keeps the quotes.
        case identifier
        /// A `'single-quoted'` string; `raw` keeps the quotes (and any `''` or `\'` inside, as MLflow does).
        case string
        /// An integer or decimal literal.
        case number
        /// `=`, `==`, `!=`, `<>`, `<`, `<=`, `>`, `>=`.
        case comparison
        /// A keyword (`AND`, `IN`, `NOT`, `LIKE`, `ILIKE`, `IS`, `NULL`, `OR`, `ASC`, `DESC`), in any case.
        case keyword
        /// A parenthesized list; `items` holds its tokens without commas.
        case list
        /// Anything else (one character).
        case other
    }

    var kind: Kind
    /// The token's text as written.
    var raw: String
    /// The text upper-cased, to compare keywords.
    var word: String { raw.uppercased() }
    /// The tokens of a list.
    var items: [MLflowSearchToken] = []
}

/// Splits MLflow's filter language into tokens: the part of `sqlparse` that MLflow's grammar uses.
enum MLflowSearchLexer {
    static let keywords: Set<String> = ["AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "ASC", "DESC"]

    private static func isNameStart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isAlphabetic
    }

    private static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar == "$" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    /// The tokens of `text`; an unterminated quote or parenthesis ends in an `.other` token.
    static func tokenize(_ text: String) -> [MLflowSearchToken] {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        return tokens(scalars, &index, closing: nil)
    }

    private static func tokens(
        _ scalars: [Unicode.Scalar],
        _ index: inout Int,
        closing: Unicode.Scalar?
    ) -> [MLflowSearchToken] {
        var result: [MLflowSearchToken] = []
        func text(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }
        while index < scalars.count {
            let scalar = scalars[index]
            let start = index
            if scalar.properties.isWhitespace {
                index += 1
                continue
            }
            if let closing, scalar == closing {
                index += 1
                return result
            }
            if closing != nil, scalar == "," {
                index += 1
                continue
            }
            switch scalar {
            case "'":
                if let end = quotedEnd(scalars, from: index, quote: "'") {
                    index = end
                    result.append(MLflowSearchToken(kind: .string, raw: text(start..<index)))
                } else {
                    index = scalars.count
                    result.append(MLflowSearchToken(kind: .other, raw: text(start..<index)))
                }
            case "(":
                index += 1
                let items = tokens(scalars, &index, closing: ")")
                result.append(MLflowSearchToken(kind: .list, raw: text(start..<index), items: items))
            case "=", "!", "<", ">":
                var end = index + 1
                if end < scalars.count, scalars[end] == "=" || (scalar == "<" && scalars[end] == ">") { end += 1 }
                let op = text(index..<end)
                index = end
                result.append(MLflowSearchToken(kind: op == "!" ? .other : .comparison, raw: op))
            default:
                if isDigit(scalar) || (scalar == "." && index + 1 < scalars.count && isDigit(scalars[index + 1]))
                    || (scalar == "-" && index + 1 < scalars.count
                        && (isDigit(scalars[index + 1]) || scalars[index + 1] == "."))
                {
                    index = numberEnd(scalars, from: index)
                    // `0x10`, `1abc`: a number glued to a name is not a number.
                    if index < scalars.count, isNameCharacter(scalars[index]) {
                        while index < scalars.count, isNameCharacter(scalars[index]) { index += 1 }
                        result.append(MLflowSearchToken(kind: .other, raw: text(start..<index)))
                    } else {
                        result.append(MLflowSearchToken(kind: .number, raw: text(start..<index)))
                    }
                } else if isNameStart(scalar) || scalar == "`" || scalar == "\"" {
                    index = identifierEnd(scalars, from: index)
                    let raw = text(start..<index)
                    if keywords.contains(raw.uppercased()) {
                        result.append(MLflowSearchToken(kind: .keyword, raw: raw))
                    } else {
                        result.append(MLflowSearchToken(kind: .identifier, raw: raw))
                    }
                } else {
                    index += 1
                    result.append(MLflowSearchToken(kind: .other, raw: String(scalar)))
                }
            }
        }
        if closing != nil { result.append(MLflowSearchToken(kind: .other, raw: "(")) }
        return result
    }

    /// The index after a quoted run starting at `from` (a doubled quote or a backslash pair stays inside), or
    /// `nil` when the quote is not closed.
    private static func quotedEnd(_ scalars: [Unicode.Scalar], from: Int, quote: Unicode.Scalar) -> Int? {
        var index = from + 1
        while index < scalars.count {
            if scalars[index] == "\\", index + 1 < scalars.count {
                index += 2
                continue
            }
            if scalars[index] == quote {
                if index + 1 < scalars.count, scalars[index + 1] == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return nil
    }

    private static func numberEnd(_ scalars: [Unicode.Scalar], from: Int) -> Int {
        var index = from
        if scalars[index] == "-" { index += 1 }
        while index < scalars.count, isDigit(scalars[index]) { index += 1 }
        if index < scalars.count, scalars[index] == "." {
            index += 1
            while index < scalars.count, isDigit(scalars[index]) { index += 1 }
        }
        if index + 1 < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            var end = index + 1
            if scalars[end] == "+" || scalars[end] == "-" { end += 1 }
            if end < scalars.count, isDigit(scalars[end]) {
                while end < scalars.count, isDigit(scalars[end]) { end += 1 }
                index = end
            }
        }
        return index
    }

    /// The index after an identifier: parts joined by dots, each a name, a backquoted or a double-quoted run.
    private static func identifierEnd(_ scalars: [Unicode.Scalar], from: Int) -> Int {
        var index = from
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "`" || scalar == "\"" {
                guard let end = quotedEnd(scalars, from: index, quote: scalar) else { return scalars.count }
                index = end
            } else if isNameStart(scalar) || isDigit(scalar) {
                while index < scalars.count, isNameCharacter(scalars[index]) { index += 1 }
            } else {
                return index
            }
            guard index < scalars.count, scalars[index] == "." else { return index }
            index += 1
        }
        return index
    }
}
