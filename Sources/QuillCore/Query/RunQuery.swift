import Foundation

/// A parsed run filter: the one query language of Quill, used by `quill runs --where`, the REST API and
/// the dashboard.
///
/// ```
/// params.lr in (0.01, 0.001) and metrics.loss.min < 0.5 or tags.team = "vision"
/// status != failed and name ~ "resnet*" and not (summary.acc < 0.9)
/// ```
///
/// - Boolean operators: `and`, `or`, `not`, parentheses; `and` binds tighter than `or`.
/// - Comparisons: `=`, `!=`, `<`, `<=`, `>`, `>=`, `in (…)`, `not in (…)`, `~` / `!~` for glob
///   matching on text (`*` any run of characters, `?` one character), and `like` / `ilike` for SQL `LIKE`
///   patterns (`%` any run of characters, `_` one character, a backslash escapes; `ilike` ignores case).
/// - Fields: `params.<key>` (config and params; nested config by dotted path), `config.<key>` (the same),
///   `metrics.<key>` (latest value), `metrics.<key>.latest|min|max|count`, `tags.<key>`,
///   `summary.<key>`, and the run attributes `status`, `kind`, `name`, `id`, `project`, `user`, `host`,
///   `created` (start time), `duration` (seconds). A key with other characters can be quoted:
///   ``metrics.`val loss`.min``.
/// - Values: numbers, quoted strings (`"…"` or `'…'`), `true`, `false`, `null`, or a bare word
///   (`status = completed`).
///
/// A comparison with a field the run does not have is false (so is `!=`); `not` inverts the result.
/// Numbers compare as numbers, times (`created`) as times, everything else as text.
public struct RunQuery: Sendable, Hashable, CustomStringConvertible {
    /// The parsed expression.
    public var expression: Expression

    /// A boolean expression over run fields.
    public indirect enum Expression: Sendable, Hashable {
        /// Every operand holds.
        case and([Expression])
        /// At least one operand holds.
        case or([Expression])
        /// The operand does not hold.
        case not(Expression)
        /// A field compared with one value (or a list, for `in`).
        case comparison(Field, Operator, [Value])
    }

    /// What a comparison looks at.
    public enum Field: Sendable, Hashable, CustomStringConvertible {
        /// A run attribute: `status`, `kind`, `name`, `id`, `project`, `user`, `host`, `created`, `duration`.
        case attribute(String)
        /// A config value or param, by dotted path.
        case param(String)
        /// A metric aggregate.
        case metric(String, MetricAggregate)
        /// A tag's value.
        case tag(String)
        /// A summary value, by dotted path.
        case summary(String)

        /// The field as written in a query.
        public var description: String {
            switch self {
            case .attribute(let name): name
            case .param(let key): "params.\(RunQuery.quoteIfNeeded(key))"
            case .metric(let key, let aggregate): "metrics.\(RunQuery.quoteIfNeeded(key)).\(aggregate.rawValue)"
            case .tag(let key): "tags.\(RunQuery.quoteIfNeeded(key))"
            case .summary(let key): "summary.\(RunQuery.quoteIfNeeded(key))"
            }
        }
    }

    /// Which value of a metric's history a comparison uses.
    public enum MetricAggregate: String, Sendable, Hashable, CaseIterable {
        /// The last value logged.
        case latest
        /// The smallest value (NaN ignored).
        case min
        /// The largest value (NaN ignored).
        case max
        /// How many values were logged.
        case count
    }

    /// A comparison operator.
    public enum Operator: String, Sendable, Hashable {
        /// Equal.
        case equal = "="
        /// Not equal.
        case notEqual = "!="
        /// Less than.
        case less = "<"
        /// Less than or equal.
        case lessOrEqual = "<="
        /// Greater than.
        case greater = ">"
        /// Greater than or equal.
        case greaterOrEqual = ">="
        /// Equal to one of a list.
        case `in` = "in"
        /// Equal to none of a list.
        case notIn = "not in"
        /// Text matches a glob pattern.
        case glob = "~"
        /// Text does not match a glob pattern.
        case notGlob = "!~"
        /// Text matches an SQL `LIKE` pattern (`%` any run of characters, `_` one character, `\\` escapes).
        case like = "like"
        /// Text matches an SQL `LIKE` pattern, ignoring case.
        case ilike = "ilike"
    }

    /// A literal value in a query.
    public enum Value: Sendable, Hashable, CustomStringConvertible {
        /// A number.
        case number(Double)
        /// Text.
        case text(String)
        /// `true` or `false`.
        case bool(Bool)
        /// `null`.
        case null

        /// The value as written in a query.
        public var description: String {
            switch self {
            case .number(let number):
                number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .text(let text):
                "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\""
            case .bool(let flag): String(flag)
            case .null: "null"
            }
        }
    }

    /// The attributes a query may name.
    public static let attributes: Set<String> = [
        "status", "kind", "name", "id", "project", "user", "host", "created", "duration", "parent",
    ]

    /// Parses a query.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` whose message points at the
    ///   offending position with a caret under the query text.
    public init(parsing text: String) throws {
        do throws(QueryParseError) {
            var parser = try QueryParser(text)
            expression = try parser.parseQuery()
        } catch {
            throw QuillError(.invalidArgument, error.render(in: text))
        }
    }

    /// Wraps an expression.
    public init(_ expression: Expression) {
        self.expression = expression
    }

    /// The query as text that parses back to the same query.
    public var description: String { Self.render(expression, parenthesize: false) }

    private static func render(_ expression: Expression, parenthesize: Bool) -> String {
        switch expression {
        case .and(let operands):
            let text = operands.map { render($0, parenthesize: true) }.joined(separator: " and ")
            return parenthesize && operands.count > 1 ? "(\(text))" : text
        case .or(let operands):
            let text = operands.map { render($0, parenthesize: true) }.joined(separator: " or ")
            return parenthesize && operands.count > 1 ? "(\(text))" : text
        case .not(let operand):
            return "not " + render(operand, parenthesize: true)
        case .comparison(let field, let op, let values):
            if op == .in || op == .notIn {
                return "\(field) \(op.rawValue) (\(values.map(\.description).joined(separator: ", ")))"
            }
            return "\(field) \(op.rawValue) \(values.first?.description ?? "null")"
        }
    }

    static func quoteIfNeeded(_ key: String) -> String {
        let plain = !key.isEmpty && key.unicodeScalars.allSatisfy { QueryLexer.isIdentifierCharacter($0) || $0 == "." }
        return plain ? key : "`" + key.replacingOccurrences(of: "`", with: "``") + "`"
    }
}
