import GRDB
import QuillCore

/// A piece of SQL with its arguments, in the order of its placeholders.
struct SQLFragment {
    var sql: String
    var arguments: StatementArguments

    init(_ sql: String, _ arguments: StatementArguments = []) {
        self.sql = sql
        self.arguments = arguments
    }

    static func + (lhs: SQLFragment, rhs: SQLFragment) -> SQLFragment {
        SQLFragment(lhs.sql + rhs.sql, lhs.arguments + rhs.arguments)
    }

    static func + (lhs: SQLFragment, rhs: String) -> SQLFragment {
        SQLFragment(lhs.sql + rhs, lhs.arguments)
    }

    static func + (lhs: String, rhs: SQLFragment) -> SQLFragment {
        SQLFragment(lhs + rhs.sql, rhs.arguments)
    }

    static let alwaysFalse = SQLFragment("0")
    static let alwaysTrue = SQLFragment("1")

    /// The negation of a condition that may be NULL (NULL counts as false, as in a `WHERE`).
    var negated: SQLFragment { "NOT coalesce(" + self + ", 0)" }

    static func joined(_ parts: [SQLFragment], separator: String) -> SQLFragment {
        var result = SQLFragment("(")
        for (index, part) in parts.enumerated() {
            if index > 0 { result = result + " \(separator) " }
            result = result + part
        }
        return result + ")"
    }
}

/// Translates a ``RunQuery`` into an SQL condition on `runs r` that holds exactly for the runs that
/// ``RunQuery/matches(_:)`` accepts.
///
/// Attributes, params (config merged with params), tags and summary values are looked up in
/// `search_fields` (see ``SearchIndex``), metric aggregates in `metric_stats`. Each comparison becomes an
/// `EXISTS` over the field's one row, so a missing field is false, as in memory, and `not` simply negates.
/// The comparisons of the query language map to SQL like this:
/// - numbers compare `num` (NULL for NaN, so NaN is never equal nor ordered);
/// - numeric text (`"0.01"`) compares as a number with values that read as numbers, as text with others;
/// - text compares `txt` (NFC, so byte order is Swift's order); `<`, `>` on text need a text value;
/// - `created` compares as a time when the value parses as one;
/// - `~` uses SQLite's `GLOB` for patterns where it agrees with `fnmatch` (ASCII, only `*`);
/// - `like` and `ilike` are always evaluated in Swift (SQLite's `LIKE` ignores ASCII case and has no escape).
///
/// Anything else (other glob patterns, text that is not a number against a metric) is evaluated in Swift
/// by the SQL function `quill_eval(n, value)`, which runs the n-th of ``fallbacks`` with
/// ``RunQuery/matches(_:)`` on the one value: slower, but exact.
struct SQLiteQueryTranslator {
    /// The name of the SQL function that evaluates ``fallbacks``.
    static let evaluatorName = "quill_eval"

    /// Comparisons evaluated in Swift, numbered by their position.
    private(set) var fallbacks: [RunQuery.Expression] = []

    /// Where a field's value lives.
    enum Source {
        /// A row of `search_fields`.
        case fields(code: Int, key: String, isTime: Bool)
        /// A column of `metric_stats` (its bare name).
        case metric(key: String, column: String)
    }

    static func source(of field: RunQuery.Field) -> Source {
        switch field {
        case .attribute(let name):
            .fields(code: SearchIndex.FieldCode.attribute, key: name, isTime: name == "created")
        case .param(let key): .fields(code: SearchIndex.FieldCode.param, key: key, isTime: false)
        case .tag(let key): .fields(code: SearchIndex.FieldCode.tag, key: key, isTime: false)
        case .summary(let key): .fields(code: SearchIndex.FieldCode.summary, key: key, isTime: false)
        case .metric(let key, let aggregate):
            switch aggregate {
            case .latest: .metric(key: key, column: "last_value")
            case .min: .metric(key: key, column: "min_value")
            case .max: .metric(key: key, column: "max_value")
            case .count: .metric(key: key, column: "count")
            }
        }
    }

    /// The condition for an expression.
    mutating func condition(_ expression: RunQuery.Expression) -> SQLFragment {
        switch expression {
        case .and(let operands):
            operands.isEmpty ? .alwaysTrue : .joined(operands.map { condition($0) }, separator: "AND")
        case .or(let operands):
            operands.isEmpty ? .alwaysFalse : .joined(operands.map { condition($0) }, separator: "OR")
        case .not(let operand):
            "(NOT " + condition(operand) + ")"
        case .comparison(let field, let op, let values):
            comparison(expression, field, op, values)
        }
    }

    private mutating func comparison(
        _ expression: RunQuery.Expression,
        _ field: RunQuery.Field,
        _ op: RunQuery.Operator,
        _ values: [RunQuery.Value]
    ) -> SQLFragment {
        switch Self.source(of: field) {
        case .fields(let code, let key, let isTime):
            let test = Self.fieldTest(op, values, isTime: isTime) ?? fallback(expression, value: "s.json")
            return
                "EXISTS (SELECT 1 FROM search_fields s WHERE s.run_id = r.id AND s.field = \(code) AND s.key = ? AND "
                + SQLFragment("", [key]) + test + ")"
        case .metric(let key, let column):
            let test = Self.metricTest(op, values, column: "m." + column) ?? fallback(expression, value: "m." + column)
            return "EXISTS (SELECT 1 FROM metric_stats m WHERE m.run_id = r.id AND m.key = ? AND "
                + SQLFragment("", [key]) + test + ")"
        }
    }

    private mutating func fallback(_ expression: RunQuery.Expression, value: String) -> SQLFragment {
        fallbacks.append(expression)
        return SQLFragment("\(Self.evaluatorName)(\(fallbacks.count - 1), \(value))")
    }

    // MARK: search_fields

    /// The test on the row `s` of a field for a comparison, or `nil` when SQL cannot say it exactly.
    static func fieldTest(_ op: RunQuery.Operator, _ values: [RunQuery.Value], isTime: Bool) -> SQLFragment? {
        switch op {
        case .equal: return values.first.map { fieldEqual($0, isTime: isTime) } ?? .alwaysFalse
        case .notEqual: return values.first.map { fieldEqual($0, isTime: isTime).negated } ?? .alwaysFalse
        case .in, .notIn:
            let any: SQLFragment
            if !isTime, !values.isEmpty, values.allSatisfy({ if case .number(let n) = $0 { !n.isNaN } else { false } })
            {
                let numbers = values.compactMap { if case .number(let n) = $0 { n } else { nil } }
                let placeholders = Array(repeating: "?", count: numbers.count).joined(separator: ", ")
                any = SQLFragment("s.num IN (\(placeholders))", StatementArguments(numbers))
            } else {
                any =
                    values.isEmpty
                    ? .alwaysFalse : .joined(values.map { fieldEqual($0, isTime: isTime) }, separator: "OR")
            }
            return op == .in ? any : any.negated
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            return values.first.map { fieldOrder(op.rawValue, $0, isTime: isTime) } ?? .alwaysFalse
        case .glob, .notGlob:
            guard case .text(let pattern) = values.first else { return .alwaysFalse }
            guard isPlainGlob(pattern) else { return nil }
            let test = SQLFragment("coalesce(s.raw, s.txt) GLOB ?", [pattern])
            return op == .glob ? test : "NOT " + test
        case .like, .ilike:
            // SQLite's LIKE ignores ASCII case unless a connection pragma says otherwise, and knows no escape
            // character without `ESCAPE`: evaluated in Swift, exactly as in memory.
            guard case .text = values.first else { return .alwaysFalse }
            return nil
        }
    }

    /// `QueryComparison.equal`.
    private static func fieldEqual(_ value: RunQuery.Value, isTime: Bool) -> SQLFragment {
        switch value {
        case .null: return isTime ? .alwaysFalse : SQLFragment("s.kind = 0")
        case .bool(let flag): return isTime ? .alwaysFalse : SQLFragment("s.kind = \(flag ? 2 : 1)")
        case .number(let number):
            if isTime { return fieldOrder("=", value, isTime: true) }
            return number.isNaN ? .alwaysFalse : SQLFragment("s.num = ?", [number])
        case .text(let text):
            if isTime { return fieldOrder("=", value, isTime: true) }
            let normalized = SearchIndex.normalize(text)
            guard let number = QueryComparison.number(value) else { return SQLFragment("s.txt = ?", [normalized]) }
            if number.isNaN { return SQLFragment("(s.isnum = 0 AND s.txt = ?)", [normalized]) }
            return SQLFragment("(CASE WHEN s.isnum THEN s.num = ? ELSE s.txt = ? END)", [number, normalized])
        }
    }

    /// `QueryComparison.order` compared with zero by `op` (`<`, `<=`, `>`, `>=` or `=`).
    private static func fieldOrder(_ op: String, _ value: RunQuery.Value, isTime: Bool) -> SQLFragment {
        let plain: SQLFragment
        switch value {
        case .null, .bool: return .alwaysFalse
        case .number(let number):
            plain = number.isNaN ? .alwaysFalse : SQLFragment("s.num \(op) ?", [number])
        case .text(let text):
            let normalized = SearchIndex.normalize(text)
            if let number = QueryComparison.number(value) {
                plain =
                    number.isNaN
                    ? SQLFragment("(s.isnum = 0 AND s.kind = 3 AND s.txt \(op) ?)", [normalized])
                    : SQLFragment(
                        "(CASE WHEN s.isnum THEN s.num \(op) ? ELSE s.kind = 3 AND s.txt \(op) ? END)",
                        [number, normalized]
                    )
            } else {
                plain = SQLFragment("(s.kind = 3 AND s.txt \(op) ?)", [normalized])
            }
            if isTime, let time = Timestamp.parseMicroseconds(Array(text.utf8)) {
                return SQLFragment("(CASE WHEN s.tm IS NOT NULL THEN s.tm \(op) ? ELSE ", [time]) + plain + " END)"
            }
        }
        return plain
    }

    /// Whether SQLite's `GLOB` and `fnmatch` agree on a pattern: ASCII, with `*` as the only special
    /// character (`?` is a byte for `fnmatch` but a character for `GLOB`; brackets and escapes differ).
    static func isPlainGlob(_ pattern: String) -> Bool {
        pattern.utf8.allSatisfy { byte in
            byte > 0 && byte < 0x80 && byte != UInt8(ascii: "?") && byte != UInt8(ascii: "[")
                && byte != UInt8(ascii: "]") && byte != UInt8(ascii: "\\")
        }
    }

    // MARK: metric_stats

    /// The test on the row `m` of a metric, whose value is always a number (NULL for NaN), or `nil`.
    static func metricTest(_ op: RunQuery.Operator, _ values: [RunQuery.Value], column: String) -> SQLFragment? {
        switch op {
        case .equal, .notEqual:
            guard let value = values.first else { return .alwaysFalse }
            guard let test = metricEqual(value, column) else { return nil }
            return op == .equal ? test : test.negated
        case .in, .notIn:
            var tests: [SQLFragment] = []
            for value in values {
                guard let test = metricEqual(value, column) else { return nil }
                tests.append(test)
            }
            let any = tests.isEmpty ? SQLFragment.alwaysFalse : .joined(tests, separator: "OR")
            return op == .in ? any : any.negated
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let value = values.first, let number = QueryComparison.number(value), !number.isNaN else {
                return .alwaysFalse
            }
            return SQLFragment("\(column) \(op.rawValue) ?", [number])
        case .glob, .notGlob, .like, .ilike:
            guard case .text = values.first else { return .alwaysFalse }
            return nil
        }
    }

    private static func metricEqual(_ value: RunQuery.Value, _ column: String) -> SQLFragment? {
        switch value {
        case .null, .bool: return .alwaysFalse
        case .number, .text:
            // Text that is not a number compares with the number's JSON text: left to Swift.
            guard let number = QueryComparison.number(value) else { return nil }
            return number.isNaN ? .alwaysFalse : SQLFragment("\(column) = ?", [number])
        }
    }
}

extension SQLiteQueryTranslator {
    /// For the comparisons every match must pass (the query, or the operands of its top `and`) that an
    /// index answers, a query of the ids of the runs that pass it.
    ///
    /// Adding `r.id IN (that query)` to the condition changes no result, but when few runs pass, SQLite
    /// tests each run against that small list first instead of running every comparison on it.
    static func narrowing(_ expression: RunQuery.Expression) -> [SQLFragment] {
        let operands: [RunQuery.Expression]
        if case .and(let list) = expression { operands = list } else { operands = [expression] }
        return operands.compactMap { operand in
            guard case .comparison(let field, let op, let values) = operand, !values.isEmpty else { return nil }
            switch source(of: field) {
            case .fields(let code, let key, let isTime):
                guard !isTime, op == .equal || op == .in else { return nil }
                let placeholders = Array(repeating: "?", count: values.count).joined(separator: ", ")
                let prefix = "SELECT run_id FROM search_fields WHERE field = \(code) AND key = ?"
                let numbers = values.compactMap { value -> Double? in
                    if case .number(let number) = value, !number.isNaN { number } else { nil }
                }
                if numbers.count == values.count {
                    return SQLFragment(
                        prefix + " AND isnum = 1 AND num IN (\(placeholders))",
                        [key] + StatementArguments(numbers)
                    )
                }
                let texts = values.compactMap { value -> String? in
                    if case .text(let text) = value, QueryComparison.number(value) == nil {
                        SearchIndex.normalize(text)
                    } else {
                        nil
                    }
                }
                guard texts.count == values.count else { return nil }
                return SQLFragment(
                    prefix + " AND isnum IN (0, 1) AND txt IN (\(placeholders))",
                    [key] + StatementArguments(texts)
                )
            case .metric(let key, let column):
                guard [.equal, .less, .lessOrEqual, .greater, .greaterOrEqual].contains(op), values.count == 1,
                    let number = QueryComparison.number(values[0]), !number.isNaN
                else { return nil }
                return SQLFragment(
                    "SELECT run_id FROM metric_stats WHERE key = ? AND \(column) \(op.rawValue) ?",
                    [key, number]
                )
            }
        }
    }
}
