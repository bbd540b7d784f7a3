/// Where a query went wrong.
struct QueryParseError: Error {
    /// The 0-based character offset of the problem.
    var position: Int
    /// What was expected or found.
    var message: String

    /// The message with the query and a caret under the offending character.
    func render(in text: String) -> String {
        let column = min(position, text.count)
        return
            "invalid query at column \(column + 1): \(message)\n  \(text)\n  \(String(repeating: " ", count: column))^"
    }
}

/// One token of a query.
struct QueryToken: Equatable {
    enum Kind: Equatable {
        case word(String)  // identifiers and keywords, with quoted segments already unquoted
        case quoted(String)  // a "…" or '…' string
        case number(Double)
        case symbol(String)  // ( ) , . = != < <= > >= ~ !~
        case end
    }

    var kind: Kind
    var position: Int
    /// Whether a word was written in backquotes (so it is never a keyword).
    var backquoted = false
}

/// Splits query text into tokens.
enum QueryLexer {
    static func isIdentifierCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-"
            || scalar == "/" || scalar == ":" || scalar == "@" || scalar == "+"
    }

    static func tokenize(_ text: String) throws(QueryParseError) -> [QueryToken] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [QueryToken] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar.properties.isWhitespace {
                index += 1
                continue
            }
            let start = index
            switch scalar {
            case "(", ")", ",", ".", "=", "~":
                tokens.append(QueryToken(kind: .symbol(String(scalar)), position: start))
                index += 1
            case "!":
                guard index + 1 < scalars.count, scalars[index + 1] == "=" || scalars[index + 1] == "~" else {
                    throw QueryParseError(position: start, message: "'!' must be followed by '=' or '~'")
                }
                tokens.append(QueryToken(kind: .symbol("!" + String(scalars[index + 1])), position: start))
                index += 2
            case "<", ">":
                if index + 1 < scalars.count, scalars[index + 1] == "=" {
                    tokens.append(QueryToken(kind: .symbol(String(scalar) + "="), position: start))
                    index += 2
                } else {
                    tokens.append(QueryToken(kind: .symbol(String(scalar)), position: start))
                    index += 1
                }
            case "\"", "'", "`":
                let quote = scalar
                var value = String.UnicodeScalarView()
                index += 1
                var closed = false
                while index < scalars.count {
                    let current = scalars[index]
                    if current == "\\", quote != "`", index + 1 < scalars.count {
                        value.append(scalars[index + 1])
                        index += 2
                        continue
                    }
                    if current == quote {
                        // A doubled backquote stands for one backquote.
                        if quote == "`", index + 1 < scalars.count, scalars[index + 1] == "`" {
                            value.append("`")
                            index += 2
                            continue
                        }
                        closed = true
                        index += 1
                        break
                    }
                    value.append(current)
                    index += 1
                }
                guard closed else {
                    throw QueryParseError(
                        position: start,
                        message: "unterminated \(quote == "`" ? "quoted name" : "string")"
                    )
                }
                if quote == "`" {
                    tokens.append(QueryToken(kind: .word(String(value)), position: start, backquoted: true))
                } else {
                    tokens.append(QueryToken(kind: .quoted(String(value)), position: start))
                }
            default:
                if ("0"..."9").contains(scalar)
                    || (scalar == "-" && index + 1 < scalars.count && ("0"..."9").contains(scalars[index + 1]))
                {
                    var end = index + 1
                    while end < scalars.count,
                        ("0"..."9").contains(scalars[end]) || scalars[end] == "." || scalars[end] == "e"
                            || scalars[end] == "E"
                            || ((scalars[end] == "-" || scalars[end] == "+")
                                && (scalars[end - 1] == "e" || scalars[end - 1] == "E"))
                    {
                        end += 1
                    }
                    let literal = String(String.UnicodeScalarView(scalars[index..<end]))
                    guard let number = Double(literal) else {
                        throw QueryParseError(position: start, message: "'\(literal)' is not a number")
                    }
                    tokens.append(QueryToken(kind: .number(number), position: start))
                    index = end
                } else if isIdentifierCharacter(scalar) {
                    var end = index + 1
                    while end < scalars.count, isIdentifierCharacter(scalars[end]) { end += 1 }
                    tokens.append(
                        QueryToken(kind: .word(String(String.UnicodeScalarView(scalars[index..<end]))), position: start)
                    )
                    index = end
                } else {
                    throw QueryParseError(position: start, message: "unexpected character '\(scalar)'")
                }
            }
        }
        tokens.append(QueryToken(kind: .end, position: scalars.count))
        return tokens
    }
}

/// A recursive-descent parser for ``RunQuery``.
struct QueryParser {
    /// How deep `not` and parentheses may nest, together. SQLite's parser and the translated SQL grow with
    /// each level; 41 nested `not`s used to fail inside SQLite with a 500. Twenty levels is more than any
    /// query a person writes.
    static let maximumDepth = 20
    /// How many comparisons one query may hold. Each becomes a subquery (988 `or` terms used to exceed
    /// SQLite's expression depth).
    static let maximumComparisons = 100
    /// How many values the `in` lists of one query may hold together (a list on a metric becomes a chain
    /// of SQL `OR`s, which SQLite caps at an expression depth of 1,000).
    static let maximumListValues = 250

    private let tokens: [QueryToken]
    private var index = 0
    private var depth = 0
    private var comparisons = 0
    private var listValues = 0

    init(_ text: String) throws(QueryParseError) {
        tokens = try QueryLexer.tokenize(text)
    }

    private var current: QueryToken { tokens[index] }

    private func isKeyword(_ token: QueryToken, _ keyword: String) -> Bool {
        if case .word(let word) = token.kind, !token.backquoted { return word.lowercased() == keyword }
        return false
    }

    private func isSymbol(_ token: QueryToken, _ symbol: String) -> Bool {
        token.kind == .symbol(symbol)
    }

    private func describe(_ token: QueryToken) -> String {
        switch token.kind {
        case .word(let word): "'\(word)'"
        case .quoted(let text): "\"\(text)\""
        case .number(let number): "\(number)"
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "the end of the query"
        }
    }

    mutating func parseQuery() throws(QueryParseError) -> RunQuery.Expression {
        if current.kind == .end { throw QueryParseError(position: 0, message: "the query is empty") }
        let expression = try parseOr()
        guard current.kind == .end else {
            throw QueryParseError(
                position: current.position,
                message: "expected 'and', 'or' or the end of the query, found \(describe(current))"
            )
        }
        return expression
    }

    private mutating func parseOr() throws(QueryParseError) -> RunQuery.Expression {
        var operands = [try parseAnd()]
        while isKeyword(current, "or") {
            index += 1
            operands.append(try parseAnd())
        }
        return operands.count == 1 ? operands[0] : .or(operands)
    }

    private mutating func parseAnd() throws(QueryParseError) -> RunQuery.Expression {
        var operands = [try parseNot()]
        while isKeyword(current, "and") {
            index += 1
            operands.append(try parseNot())
        }
        return operands.count == 1 ? operands[0] : .and(operands)
    }

    private mutating func parseNot() throws(QueryParseError) -> RunQuery.Expression {
        if isKeyword(current, "not") {
            try enter()
            index += 1
            let operand = try parseNot()
            depth -= 1
            return .not(operand)
        }
        return try parsePrimary()
    }

    /// Counts one more level of `not` or parentheses, refusing more than ``maximumDepth``.
    private mutating func enter() throws(QueryParseError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw QueryParseError(
                position: current.position,
                message:
                    "'not' and parentheses nest more than \(Self.maximumDepth) levels deep here; simplify the query"
            )
        }
    }

    private mutating func parsePrimary() throws(QueryParseError) -> RunQuery.Expression {
        if isSymbol(current, "(") {
            try enter()
            let open = current.position
            index += 1
            let inner = try parseOr()
            guard isSymbol(current, ")") else {
                throw QueryParseError(
                    position: current.position,
                    message: "expected ')' to close the '(' at column \(open + 1), found \(describe(current))"
                )
            }
            index += 1
            depth -= 1
            return inner
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(QueryParseError) -> RunQuery.Expression {
        comparisons += 1
        guard comparisons <= Self.maximumComparisons else {
            throw QueryParseError(
                position: current.position,
                message:
                    "the query has more than \(Self.maximumComparisons) comparisons; use 'in (…)' for lists of values or split the query"
            )
        }
        let field = try parseField()
        let operatorToken = current
        var op: RunQuery.Operator
        switch operatorToken.kind {
        case .symbol("="): op = .equal
        case .symbol("!="): op = .notEqual
        case .symbol("<"): op = .less
        case .symbol("<="): op = .lessOrEqual
        case .symbol(">"): op = .greater
        case .symbol(">="): op = .greaterOrEqual
        case .symbol("~"): op = .glob
        case .symbol("!~"): op = .notGlob
        default:
            if isKeyword(operatorToken, "in") {
                op = .in
            } else if isKeyword(operatorToken, "like") {
                op = .like
            } else if isKeyword(operatorToken, "ilike") {
                op = .ilike
            } else if isKeyword(operatorToken, "not"), isKeyword(tokens[index + 1], "in") {
                op = .notIn
                index += 1
            } else {
                throw QueryParseError(
                    position: operatorToken.position,
                    message:
                        "expected a comparison (=, !=, <, <=, >, >=, ~, !~, like, ilike, in, not in) after \(field), found \(describe(operatorToken))"
                )
            }
        }
        index += 1
        if op == .in || op == .notIn {
            guard isSymbol(current, "(") else {
                throw QueryParseError(position: current.position, message: "expected '(' after '\(op.rawValue)'")
            }
            index += 1
            var values = [try parseListValue()]
            while isSymbol(current, ",") {
                index += 1
                values.append(try parseListValue())
            }
            guard isSymbol(current, ")") else {
                throw QueryParseError(
                    position: current.position,
                    message: "expected ',' or ')' in the list, found \(describe(current))"
                )
            }
            index += 1
            return .comparison(field, op, values)
        }
        let value = try parseValue()
        let takesPattern = op == .glob || op == .notGlob || op == .like || op == .ilike
        if takesPattern, case .text = value {
        } else if takesPattern {
            let example = op == .like || op == .ilike ? "\"resnet%\"" : "\"resnet*\""
            throw QueryParseError(
                position: tokens[index - 1].position,
                message: "'\(op.rawValue)' takes a text pattern, e.g. \(example)"
            )
        }
        return .comparison(field, op, [value])
    }

    private mutating func parseListValue() throws(QueryParseError) -> RunQuery.Value {
        listValues += 1
        guard listValues <= Self.maximumListValues else {
            throw QueryParseError(
                position: current.position,
                message: "the query's 'in' lists hold more than \(Self.maximumListValues) values; split the query"
            )
        }
        return try parseValue()
    }

    private mutating func parseValue() throws(QueryParseError) -> RunQuery.Value {
        let token = current
        switch token.kind {
        case .number(let number):
            index += 1
            return .number(number)
        case .quoted(let text):
            index += 1
            return .text(text)
        case .word(let word):
            let lowered = word.lowercased()
            if !token.backquoted, ["and", "or", "not", "in"].contains(lowered) { break }
            index += 1
            if !token.backquoted {
                switch lowered {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                case "nan": return .number(.nan)
                case "inf", "infinity": return .number(.infinity)
                default: break
                }
            }
            return .text(word)
        default:
            break
        }
        throw QueryParseError(
            position: token.position,
            message: "expected a value (a number, a \"string\" or a word), found \(describe(token))"
        )
    }

    /// Reads `segment(.segment)*` and maps it to a field.
    private mutating func parseField() throws(QueryParseError) -> RunQuery.Field {
        let start = current
        var segments: [(text: String, quoted: Bool)] = []
        guard case .word(let first) = start.kind else {
            throw QueryParseError(
                position: start.position,
                message:
                    "expected a field (params.…, metrics.…, tags.…, summary.…, or an attribute such as status), found \(describe(start))"
            )
        }
        segments.append((first, start.backquoted))
        index += 1
        while isSymbol(current, ".") {
            index += 1
            guard case .word(let segment) = current.kind else {
                throw QueryParseError(position: current.position, message: "expected a name after '.'")
            }
            segments.append((segment, current.backquoted))
            index += 1
        }
        let head = segments[0].quoted ? segments[0].text : segments[0].text.lowercased()
        let rest = segments.dropFirst()
        let key = rest.map(\.text).joined(separator: ".")
        switch head {
        case "params", "param", "config":
            guard !rest.isEmpty else {
                throw QueryParseError(position: start.position, message: "'\(head)' needs a key, e.g. params.lr")
            }
            return .param(MetricBounds.normalizedKey(key))
        case "tags", "tag":
            guard !rest.isEmpty else {
                throw QueryParseError(position: start.position, message: "'tags' needs a key, e.g. tags.team")
            }
            return .tag(MetricBounds.normalizedKey(key))
        case "summary":
            guard !rest.isEmpty else {
                throw QueryParseError(position: start.position, message: "'summary' needs a key, e.g. summary.acc")
            }
            return .summary(MetricBounds.normalizedKey(key))
        case "metrics", "metric":
            guard !rest.isEmpty else {
                throw QueryParseError(position: start.position, message: "'metrics' needs a key, e.g. metrics.loss.min")
            }
            if rest.count >= 2, let last = rest.last, !last.quoted, let aggregate = Self.aggregate(last.text) {
                return .metric(
                    MetricBounds.normalizedKey(rest.dropLast().map(\.text).joined(separator: ".")),
                    aggregate
                )
            }
            return .metric(MetricBounds.normalizedKey(key), .latest)
        default:
            guard rest.isEmpty, RunQuery.attributes.contains(head) else {
                throw QueryParseError(
                    position: start.position,
                    message:
                        "unknown field '\(segments.map(\.text).joined(separator: "."))'; use params.KEY, metrics.KEY[.min|.max|.latest|.count], tags.KEY, summary.KEY or one of: \(RunQuery.attributes.sorted().joined(separator: ", "))"
                )
            }
            return .attribute(head)
        }
    }

    private static func aggregate(_ text: String) -> RunQuery.MetricAggregate? {
        switch text.lowercased() {
        case "latest", "last": .latest
        case "min": .min
        case "max": .max
        case "count": .count
        default: nil
        }
    }
}
