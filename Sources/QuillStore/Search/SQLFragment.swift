/// A value bound to a placeholder of an ``SQLFragment``, independent of the database driver: each store
/// binds it with its own API (GRDB's `StatementArguments`, PostgresNIO's `PostgresBindings`).
package enum SQLValue: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// A 64-bit integer (`INTEGER`, `BIGINT`).
    case integer(Int64)
    /// A double (`REAL`, `DOUBLE PRECISION`).
    case real(Double)
    /// Text.
    case text(String)
}

/// The SQL dialects searches are translated to. Their differences are few and all live in the search
/// translation (``SearchQueryTranslator``, ``SearchOrder``): placeholders (`?` vs `$n`), boolean literals,
/// SQLite's `GLOB`, `CROSS JOIN` hints and SQL functions written in Swift (SQLite only).
package enum SQLDialect: Sendable, Hashable {
    /// SQLite (GRDB).
    case sqlite
    /// PostgreSQL (PostgresNIO).
    case postgres

    /// A condition that always holds.
    var alwaysTrue: String { self == .sqlite ? "1" : "TRUE" }
    /// A condition that never holds.
    var alwaysFalse: String { self == .sqlite ? "0" : "FALSE" }
    /// The join that keeps the order of its tables (SQLite's planner takes `CROSS JOIN` as that hint).
    var orderedJoin: String { self == .sqlite ? "CROSS JOIN" : "JOIN" }
    /// A NULL number in a select list.
    var nullNumber: String { self == .sqlite ? "NULL" : "CAST(NULL AS DOUBLE PRECISION)" }
    /// A NULL text in a select list.
    var nullText: String { self == .sqlite ? "NULL" : "CAST(NULL AS TEXT)" }
    /// Ends a correlated subquery (`EXISTS (SELECT … OFFSET 0)`) so that the database tests it run by run, on
    /// the field's primary key, as the order reads the runs, the way SQLite always does. Without it PostgreSQL
    /// may turn an `EXISTS` under `OR` into a hashed subplan, which reads every run's value of the field before
    /// the first row (100 ms at 100,000 runs where the page needs a few hundred probes), or an `EXISTS` of the
    /// top `AND` into a join whose order rests on estimates that per-key skew makes wrong. Sparse comparisons
    /// are joined on purpose instead, through ``SearchPlan/narrow(to:)``.
    var subqueryFence: String { self == .postgres ? " OFFSET 0" : "" }
    /// A column as a number in a select list (PostgreSQL keeps `BIGINT` columns `BIGINT`).
    func number(_ column: String) -> String { self == .sqlite ? column : "CAST(\(column) AS DOUBLE PRECISION)" }
}

/// A piece of SQL with its arguments, in the order of its placeholders (written `?`; ``text(for:)``
/// numbers them for PostgreSQL). The SQL text never holds a value: every value is an argument.
package struct SQLFragment: Sendable, Hashable {
    /// The SQL, with `?` for each argument.
    package var sql: String
    /// The arguments.
    package var arguments: [SQLValue]

    /// A fragment from its parts.
    package init(_ sql: String, _ arguments: [SQLValue] = []) {
        self.sql = sql
        self.arguments = arguments
    }

    /// The SQL text for a dialect: `?` placeholders as they are for SQLite, `$1`, `$2`… for PostgreSQL.
    package func text(for dialect: SQLDialect) -> String {
        guard dialect == .postgres else { return sql }
        var result = ""
        result.reserveCapacity(sql.utf8.count + arguments.count * 2)
        var number = 0
        for character in sql {
            if character == "?" {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        precondition(number == arguments.count, "an SQL fragment has as many placeholders as arguments")
        return result
    }

    package static func + (lhs: SQLFragment, rhs: SQLFragment) -> SQLFragment {
        SQLFragment(lhs.sql + rhs.sql, lhs.arguments + rhs.arguments)
    }

    package static func + (lhs: SQLFragment, rhs: String) -> SQLFragment {
        SQLFragment(lhs.sql + rhs, lhs.arguments)
    }

    package static func + (lhs: String, rhs: SQLFragment) -> SQLFragment {
        SQLFragment(lhs + rhs.sql, rhs.arguments)
    }

    /// The parts in parentheses, joined by `separator` (`AND`, `OR`).
    package static func joined(_ parts: [SQLFragment], separator: String) -> SQLFragment {
        var result = SQLFragment("(")
        for (index, part) in parts.enumerated() {
            if index > 0 { result = result + " \(separator) " }
            result = result + part
        }
        return result + ")"
    }

    /// `?, ?, …` for `count` arguments.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
