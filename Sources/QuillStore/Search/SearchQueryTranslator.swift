package import QuillCore

/// Translates a ``RunQuery`` into an SQL condition on `runs r` that holds exactly for the runs that
/// ``RunQuery/matches(_:)`` accepts, for SQLite and PostgreSQL alike (``SQLDialect``).
///
/// Attributes, params (config merged with params), tags and summary values are looked up in
/// `search_fields` (see ``SearchFieldRow``), metric aggregates in `metric_stats`. Each comparison becomes an
/// `EXISTS` over the field's one row, so a missing field is false, as in memory, and `not` simply negates.
/// Each `EXISTS` is tested run by run, on the field's primary key, as the order reads the runs (see
/// ``SQLDialect/subqueryFence``), so a page stops once it is full.
/// The comparisons of the query language map to SQL like this:
/// - numbers compare `num` (NULL for NaN, so NaN is never equal nor ordered);
/// - numeric text (`"0.01"`) compares as a number with values that read as numbers, as text with others;
/// - text compares `txt` (NFC, so byte order is Swift's order); `<`, `>` on text need a text value;
/// - `created` compares as a time when the value parses as one;
/// - `~` uses SQLite's `GLOB` or PostgreSQL's `LIKE` (bytewise, `COLLATE "C"`) for patterns where they agree
///   with `fnmatch` (ASCII, only `*`);
/// - `like` is PostgreSQL's `LIKE` there (its semantics by definition); SQLite's `LIKE` ignores ASCII case
///   and has no escape, so SQLite evaluates it in Swift; `ilike` (Swift's lowercasing) is always evaluated in
///   Swift.
///
/// Anything else (other glob patterns, text that is not a number against a metric) is a *fallback*,
/// evaluated in Swift, in one of two ways:
/// - SQLite: the SQL function `quill_eval(n, value)` runs the n-th of ``fallbacks`` with
///   ``RunQuery/matches(_:)`` on the one value (the SQLite store registers it);
/// - PostgreSQL (no functions in Swift): the comparison becomes `TRUE` where the query needs it to hold and
///   `FALSE` under a `not`, so the condition admits every matching run (and perhaps more), and
///   ``needsRecheck`` tells the store to keep only the runs that ``RunQuery/matches(_:)`` accepts.
package struct SearchQueryTranslator: Sendable {
    /// The name of the SQL function that evaluates ``fallbacks`` on SQLite.
    package static let evaluatorName = "quill_eval"

    /// The dialect of the SQL made.
    package let dialect: SQLDialect

    /// Comparisons evaluated in Swift, numbered by their position.
    package private(set) var fallbacks: [RunQuery.Expression] = []

    /// Whether the condition admits more runs than match (PostgreSQL with ``fallbacks``): each run found
    /// must then be checked with ``RunQuery/matches(_:)``.
    package var needsRecheck: Bool { dialect == .postgres && !fallbacks.isEmpty }

    /// A translator for a dialect.
    package init(dialect: SQLDialect) {
        self.dialect = dialect
    }

    /// Where a field's value lives.
    package enum Source: Sendable {
        /// A row of `search_fields`.
        case fields(code: Int, key: String, isTime: Bool)
        /// A column of `metric_stats` (its bare name).
        case metric(key: String, column: String)
    }

    /// Where a field's value lives.
    package static func source(of field: RunQuery.Field) -> Source {
        switch field {
        case .attribute(let name):
            .fields(code: SearchFieldRow.Code.attribute, key: name, isTime: name == "created")
        case .param(let key): .fields(code: SearchFieldRow.Code.param, key: key, isTime: false)
        case .tag(let key): .fields(code: SearchFieldRow.Code.tag, key: key, isTime: false)
        case .summary(let key): .fields(code: SearchFieldRow.Code.summary, key: key, isTime: false)
        case .metric(let key, let aggregate):
            switch aggregate {
            case .latest: .metric(key: key, column: "last_value")
            case .min: .metric(key: key, column: "min_value")
            case .max: .metric(key: key, column: "max_value")
            case .count: .metric(key: key, column: "count")
            }
        }
    }

    private var alwaysTrue: SQLFragment { SQLFragment(dialect.alwaysTrue) }
    private var alwaysFalse: SQLFragment { SQLFragment(dialect.alwaysFalse) }

    /// The negation of a condition that may be NULL (NULL counts as false, as in a `WHERE`).
    private func negated(_ condition: SQLFragment) -> SQLFragment {
        "NOT coalesce(" + condition + ", \(dialect.alwaysFalse))"
    }

    /// The condition for an expression.
    package mutating func condition(_ expression: RunQuery.Expression) -> SQLFragment {
        condition(expression, holds: true)
    }

    /// The condition for an expression that the whole query needs to hold (`holds`) or to fail (under a
    /// `not`), which decides which way a fallback errs on PostgreSQL.
    private mutating func condition(_ expression: RunQuery.Expression, holds: Bool) -> SQLFragment {
        switch expression {
        case .and(let operands):
            operands.isEmpty
                ? alwaysTrue : .joined(operands.map { condition($0, holds: holds) }, separator: "AND")
        case .or(let operands):
            operands.isEmpty
                ? alwaysFalse : .joined(operands.map { condition($0, holds: holds) }, separator: "OR")
        case .not(let operand):
            "(NOT " + condition(operand, holds: !holds) + ")"
        case .comparison(let field, let op, let values):
            comparison(expression, field, op, values, holds: holds)
        }
    }

    private mutating func comparison(
        _ expression: RunQuery.Expression,
        _ field: RunQuery.Field,
        _ op: RunQuery.Operator,
        _ values: [RunQuery.Value],
        holds: Bool
    ) -> SQLFragment {
        switch Self.source(of: field) {
        case .fields(let code, let key, let isTime):
            let test =
                fieldTest(op, values, isTime: isTime) ?? fallback(expression, value: "s.json", holds: holds)
            return
                "EXISTS (SELECT 1 FROM search_fields s WHERE s.run_id = r.id AND s.field = \(code) AND s.key = ? AND "
                + SQLFragment("", [.text(key)]) + test + "\(dialect.subqueryFence))"
        case .metric(let key, let column):
            let test =
                metricTest(op, values, column: "m." + column)
                ?? fallback(expression, value: "m." + column, holds: holds)
            return "EXISTS (SELECT 1 FROM metric_stats m WHERE m.run_id = r.id AND m.key = ? AND "
                + SQLFragment("", [.text(key)]) + test + "\(dialect.subqueryFence))"
        }
    }

    private mutating func fallback(_ expression: RunQuery.Expression, value: String, holds: Bool) -> SQLFragment {
        fallbacks.append(expression)
        switch dialect {
        case .sqlite: return SQLFragment("\(Self.evaluatorName)(\(fallbacks.count - 1), \(value))")
        case .postgres: return holds ? alwaysTrue : alwaysFalse
        }
    }

    // MARK: search_fields

    /// The test on the row `s` of a field for a comparison, or `nil` when SQL cannot say it exactly.
    func fieldTest(_ op: RunQuery.Operator, _ values: [RunQuery.Value], isTime: Bool) -> SQLFragment? {
        switch op {
        case .equal: return values.first.map { fieldEqual($0, isTime: isTime) } ?? alwaysFalse
        case .notEqual: return values.first.map { negated(fieldEqual($0, isTime: isTime)) } ?? alwaysFalse
        case .in, .notIn:
            let any: SQLFragment
            if !isTime, !values.isEmpty, values.allSatisfy({ if case .number(let n) = $0 { !n.isNaN } else { false } })
            {
                let numbers = values.compactMap { if case .number(let n) = $0 { SQLValue.real(n) } else { nil } }
                any = SQLFragment("s.num IN (\(SQLFragment.placeholders(numbers.count)))", numbers)
            } else {
                any =
                    values.isEmpty
                    ? alwaysFalse : .joined(values.map { fieldEqual($0, isTime: isTime) }, separator: "OR")
            }
            return op == .in ? any : negated(any)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            return values.first.map { fieldOrder(op.rawValue, $0, isTime: isTime) } ?? alwaysFalse
        case .glob, .notGlob:
            guard case .text(let pattern) = values.first else { return alwaysFalse }
            guard Self.isPlainGlob(pattern) else { return nil }
            let test =
                switch dialect {
                case .sqlite: SQLFragment("coalesce(s.raw, s.txt) GLOB ?", [.text(pattern)])
                case .postgres: SQLFragment("coalesce(s.raw, s.txt) LIKE ?", [.text(Self.likePattern(glob: pattern))])
                }
            return op == .glob ? test : "NOT " + test
        case .like:
            // SQLite's LIKE ignores ASCII case unless a connection pragma says otherwise, and knows no escape
            // character without `ESCAPE`: evaluated in Swift, exactly as in memory. PostgreSQL's is the
            // definition (characters are code points of the UTF-8 database, the escape a backslash).
            guard case .text(let pattern) = values.first else { return alwaysFalse }
            guard dialect == .postgres, !pattern.unicodeScalars.contains("\0") else { return nil }
            return SQLFragment("coalesce(s.raw, s.txt) LIKE ?", [.text(Self.closingEscape(pattern))])
        case .ilike:
            // Swift's lowercasing (the query language's) is Unicode's; `ILIKE` under `COLLATE "C"` folds ASCII.
            guard case .text = values.first else { return alwaysFalse }
            return nil
        }
    }

    /// `QueryComparison.equal`.
    private func fieldEqual(_ value: RunQuery.Value, isTime: Bool) -> SQLFragment {
        switch value {
        case .null: return isTime ? alwaysFalse : SQLFragment("s.kind = 0")
        case .bool(let flag): return isTime ? alwaysFalse : SQLFragment("s.kind = \(flag ? 2 : 1)")
        case .number(let number):
            if isTime { return fieldOrder("=", value, isTime: true) }
            return number.isNaN ? alwaysFalse : SQLFragment("s.num = ?", [.real(number)])
        case .text(let text):
            if isTime { return fieldOrder("=", value, isTime: true) }
            let normalized = SQLValue.text(SearchFieldRow.normalize(text))
            guard let number = QueryComparison.number(value) else { return SQLFragment("s.txt = ?", [normalized]) }
            if number.isNaN { return SQLFragment("(s.isnum = 0 AND s.txt = ?)", [normalized]) }
            return SQLFragment(
                "(CASE WHEN s.isnum = 1 THEN s.num = ? ELSE s.txt = ? END)",
                [.real(number), normalized]
            )
        }
    }

    /// `QueryComparison.order` compared with zero by `op` (`<`, `<=`, `>`, `>=` or `=`).
    private func fieldOrder(_ op: String, _ value: RunQuery.Value, isTime: Bool) -> SQLFragment {
        let plain: SQLFragment
        switch value {
        case .null, .bool: return alwaysFalse
        case .number(let number):
            plain = number.isNaN ? alwaysFalse : SQLFragment("s.num \(op) ?", [.real(number)])
        case .text(let text):
            let normalized = SQLValue.text(SearchFieldRow.normalize(text))
            if let number = QueryComparison.number(value) {
                plain =
                    number.isNaN
                    ? SQLFragment("(s.isnum = 0 AND s.kind = 3 AND s.txt \(op) ?)", [normalized])
                    : SQLFragment(
                        "(CASE WHEN s.isnum = 1 THEN s.num \(op) ? ELSE s.kind = 3 AND s.txt \(op) ? END)",
                        [.real(number), normalized]
                    )
            } else {
                plain = SQLFragment("(s.kind = 3 AND s.txt \(op) ?)", [normalized])
            }
            if isTime, let time = Timestamp.parseMicroseconds(Array(text.utf8)) {
                return SQLFragment("(CASE WHEN s.tm IS NOT NULL THEN s.tm \(op) ? ELSE ", [.integer(time)]) + plain
                    + " END)"
            }
        }
        return plain
    }

    /// Whether SQLite's `GLOB`, PostgreSQL's `LIKE` and `fnmatch` agree on a pattern: ASCII, with `*` as the
    /// only special character (`?` is a byte for `fnmatch` but a character for `GLOB` and `LIKE`; brackets
    /// and escapes differ).
    static func isPlainGlob(_ pattern: String) -> Bool {
        pattern.utf8.allSatisfy { byte in
            byte > 0 && byte < 0x80 && byte != UInt8(ascii: "?") && byte != UInt8(ascii: "[")
                && byte != UInt8(ascii: "]") && byte != UInt8(ascii: "\\")
        }
    }

    /// A plain glob pattern (``isPlainGlob(_:)``) as a `LIKE` pattern: `*` is `%`, `%` and `_` literal.
    static func likePattern(glob pattern: String) -> String {
        var result = ""
        for scalar in pattern.unicodeScalars {
            switch scalar {
            case "*": result += "%"
            case "%", "_": result += "\\" + String(scalar)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A `like` pattern as PostgreSQL's `LIKE` takes it: a trailing lone backslash, which the query
    /// language reads as itself (see `LikePattern`), is escaped (PostgreSQL refuses it).
    static func closingEscape(_ pattern: String) -> String {
        var escaping = false
        for scalar in pattern.unicodeScalars { escaping = !escaping && scalar == "\\" }
        return escaping ? pattern + "\\" : pattern
    }

    // MARK: metric_stats

    /// The test on the row `m` of a metric, whose value is always a number (NULL for NaN), or `nil`.
    func metricTest(_ op: RunQuery.Operator, _ values: [RunQuery.Value], column: String) -> SQLFragment? {
        switch op {
        case .equal, .notEqual:
            guard let value = values.first else { return alwaysFalse }
            guard let test = metricEqual(value, column) else { return nil }
            return op == .equal ? test : negated(test)
        case .in, .notIn:
            var tests: [SQLFragment] = []
            for value in values {
                guard let test = metricEqual(value, column) else { return nil }
                tests.append(test)
            }
            let any = tests.isEmpty ? alwaysFalse : .joined(tests, separator: "OR")
            return op == .in ? any : negated(any)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let value = values.first, let number = QueryComparison.number(value), !number.isNaN else {
                return alwaysFalse
            }
            return SQLFragment("\(column) \(op.rawValue) ?", [.real(number)])
        case .glob, .notGlob, .like, .ilike:
            guard case .text = values.first else { return alwaysFalse }
            return nil
        }
    }

    private func metricEqual(_ value: RunQuery.Value, _ column: String) -> SQLFragment? {
        switch value {
        case .null, .bool: return alwaysFalse
        case .number, .text:
            // Text that is not a number compares with the number's JSON text: left to Swift.
            guard let number = QueryComparison.number(value) else { return nil }
            return number.isNaN ? alwaysFalse : SQLFragment("\(column) = ?", [.real(number)])
        }
    }
}

extension SearchQueryTranslator {
    /// Queries of the ids of runs among which every match is (each a superset of the matches), from the
    /// comparisons an index answers: a comparison every match passes (the query, an operand of an `and`, at
    /// any depth), or, for an `or`, the union of one such query for each of its operands.
    ///
    /// Adding `r.id IN (that query)` to the condition changes no result, but when few runs pass, the
    /// database tests each run against that small list first instead of running every comparison on it.
    package static func narrowing(_ expression: RunQuery.Expression) -> [SQLFragment] {
        switch expression {
        case .and(let operands):
            return operands.flatMap { narrowing($0) }
        case .or(let operands):
            var parts: [SQLFragment] = []
            for operand in operands {
                // An operand no index narrows may hold for any run: the `or` cannot be narrowed.
                guard let first = narrowing(operand).first else { return [] }
                parts.append(first)
            }
            guard var union = parts.first else { return [] }
            // `UNION ALL`: the probe counting it stops at `sparse` rows; `IN` ignores duplicates.
            for part in parts.dropFirst() { union = union + " UNION ALL " + part }
            return [union]
        case .not:
            return []
        case .comparison(let field, let op, let values):
            return comparisonNarrowing(field, op, values).map { [$0] } ?? []
        }
    }

    /// The ids of the runs that pass one comparison, from an index, or `nil` when no index answers it.
    private static func comparisonNarrowing(
        _ field: RunQuery.Field,
        _ op: RunQuery.Operator,
        _ values: [RunQuery.Value]
    ) -> SQLFragment? {
        guard !values.isEmpty else { return nil }
        switch source(of: field) {
        case .fields(let code, let key, let isTime):
            guard !isTime, op == .equal || op == .in else { return nil }
            let placeholders = SQLFragment.placeholders(values.count)
            let prefix = "SELECT run_id FROM search_fields WHERE field = \(code) AND key = ?"
            let numbers = values.compactMap { value -> SQLValue? in
                if case .number(let number) = value, !number.isNaN { .real(number) } else { nil }
            }
            if numbers.count == values.count {
                return SQLFragment(prefix + " AND isnum = 1 AND num IN (\(placeholders))", [.text(key)] + numbers)
            }
            let texts = values.compactMap { value -> SQLValue? in
                if case .text(let text) = value, QueryComparison.number(value) == nil {
                    .text(SearchFieldRow.normalize(text))
                } else {
                    nil
                }
            }
            guard texts.count == values.count else { return nil }
            return SQLFragment(prefix + " AND isnum IN (0, 1) AND txt IN (\(placeholders))", [.text(key)] + texts)
        case .metric(let key, let column):
            guard [.equal, .less, .lessOrEqual, .greater, .greaterOrEqual].contains(op), values.count == 1,
                let number = QueryComparison.number(values[0]), !number.isNaN
            else { return nil }
            return SQLFragment(
                "SELECT run_id FROM metric_stats WHERE key = ? AND \(column) \(op.rawValue) ?",
                [.text(key), .real(number)]
            )
        }
    }
}
