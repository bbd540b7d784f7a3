package import QuillCore

/// The order of a search as SQL: ``RunSort``'s order, split into buckets that are read one after the other
/// with keyset paging inside each.
///
/// ``RunSort/precedes(_:_:)`` puts numbers first (smallest or largest first), then NaN, then text (in
/// `String` order, either way), then runs without the field; ties keep the default order, newest start
/// first, then the larger id. Each bucket is one SQL query whose `ORDER BY` an index serves
/// (`search_fields_by_number`, `search_fields_by_text`, `metric_stats_by_*`, `runs_by_start`), so a page
/// reads about as many rows as it returns.
package struct SearchOrder: Sendable {
    /// A group of runs that sort together.
    package enum Bucket: Int, Sendable {
        /// Runs whose value is a number other than NaN, by that number.
        case number = 0
        /// Runs whose value is NaN, in the default order.
        case nan = 1
        /// Runs whose value is not a number, by its text.
        case text = 2
        /// Runs without the field, in the default order.
        case missing = 3
        /// Every run, in the default order (no sort given).
        case all = 4
    }

    /// The names of the columns a bucket's query adds to the run's: the sorted value, as a number or as text.
    package enum Columns {
        /// The numeric sort value (`DOUBLE PRECISION` on PostgreSQL), or NULL.
        package static let sortNumber = "sort_num"
        /// The text sort value, or NULL.
        package static let sortText = "sort_txt"
    }

    /// The sort, or `nil` for the default order.
    package var sort: RunSort?

    /// The dialect of the SQL made.
    package var dialect: SQLDialect

    /// The order of a sort.
    package init(sort: RunSort?, dialect: SQLDialect) {
        self.sort = sort
        self.dialect = dialect
    }

    /// A name for the order, stored in cursors so a cursor is not used with another order.
    package var signature: String {
        guard let sort else { return "default" }
        return "\(sort.field) \(sort.descending ? "desc" : "asc")"
    }

    /// The buckets, in order.
    package var buckets: [Bucket] {
        guard let sort else { return [.all] }
        switch SearchQueryTranslator.source(of: sort.field) {
        case .fields: return [.number, .nan, .text, .missing]
        case .metric(_, let column): return column == "count" ? [.number, .missing] : [.number, .nan, .missing]
        }
    }

    /// The query for the runs of one bucket that pass `filter` (a condition on `runs r`), after a cursor
    /// in that bucket, at most `limit` of them. Rows are `runColumns` (of `runs r`), `sort_num` and
    /// `sort_txt`.
    package func query(
        _ bucket: Bucket,
        runColumns: String,
        filter: SQLFragment,
        after cursor: SearchCursor?,
        limit: Int
    ) -> SQLFragment {
        let defaultOrder = "r.started_at DESC, r.id DESC"
        var afterDefault: SQLFragment {
            guard let cursor else { return SQLFragment("") }
            return SQLFragment(" AND (r.started_at, r.id) < (?, ?)", [.integer(cursor.startedAt), .text(cursor.id)])
        }
        let tail = SQLFragment(" LIMIT ?", [.integer(Int64(limit))])
        let unsortedColumns = "\(runColumns), \(dialect.nullNumber) AS sort_num, \(dialect.nullText) AS sort_txt"
        guard let sort, bucket != .all else {
            return "SELECT \(unsortedColumns) FROM runs r WHERE " + filter + afterDefault
                + " ORDER BY \(defaultOrder)" + tail
        }
        let direction = sort.descending ? "DESC" : "ASC"
        let beyond = sort.descending ? "<" : ">"
        // `value` is the sorted column of `o`; the keyset continues after the cursor's value, then among
        // equal values after its start and id. `tie` names the start and id columns: those of
        // `search_fields` (a copy of the run's) let its indexes serve the whole order, ties included.
        func sorted(
            _ from: SQLFragment,
            value: String,
            cursorValue: SQLValue?,
            tie: (start: String, id: String)
        ) -> SQLFragment {
            var keyset = SQLFragment("")
            if let cursor, let cursorValue {
                keyset = SQLFragment(
                    " AND \(value) \(beyond)= ? AND (\(value) \(beyond) ? OR (\(value) = ? AND (\(tie.start), \(tie.id)) < (?, ?)))",
                    [cursorValue, cursorValue, cursorValue, .integer(cursor.startedAt), .text(cursor.id)]
                )
            }
            let columns =
                value.hasSuffix("txt")
                ? "\(runColumns), \(dialect.nullNumber) AS sort_num, \(value) AS sort_txt"
                : "\(runColumns), \(dialect.number(value)) AS sort_num, \(dialect.nullText) AS sort_txt"
            return "SELECT \(columns) " + from + " AND " + filter + keyset
                + " ORDER BY \(value) \(direction), \(tie.start) DESC, \(tie.id) DESC" + tail
        }
        func unsorted(_ from: SQLFragment, tie: (start: String, id: String) = ("r.started_at", "r.id")) -> SQLFragment {
            var keyset = SQLFragment("")
            if let cursor {
                keyset = SQLFragment(
                    " AND (\(tie.start), \(tie.id)) < (?, ?)",
                    [.integer(cursor.startedAt), .text(cursor.id)]
                )
            }
            return "SELECT \(unsortedColumns) " + from + " AND " + filter + keyset
                + " ORDER BY \(tie.start) DESC, \(tie.id) DESC" + tail
        }
        let copied = (start: "o.started_at", id: "o.run_id")
        let join = dialect.orderedJoin
        switch SearchQueryTranslator.source(of: sort.field) {
        case .fields(let code, let key, _):
            let from = "FROM search_fields o \(join) runs r ON r.id = o.run_id WHERE o.field = \(code) AND o.key = ?"
            switch bucket {
            case .number:
                return sorted(
                    SQLFragment(from + " AND o.isnum = 1 AND o.num IS NOT NULL", [.text(key)]),
                    value: "o.num",
                    cursorValue: cursor?.numberValue.map(SQLValue.real),
                    tie: copied
                )
            case .nan:
                return unsorted(SQLFragment(from + " AND o.isnum = 1 AND o.num IS NULL", [.text(key)]), tie: copied)
            case .text:
                return sorted(
                    SQLFragment(from + " AND o.isnum = 0", [.text(key)]),
                    value: "o.txt",
                    cursorValue: cursor?.text.map(SQLValue.text),
                    tie: copied
                )
            case .missing, .all:
                return unsorted(
                    SQLFragment(
                        "FROM runs r WHERE NOT EXISTS (SELECT 1 FROM search_fields o WHERE o.run_id = r.id AND o.field = \(code) AND o.key = ?)",
                        [.text(key)]
                    )
                )
            }
        case .metric(let key, let column):
            let from = "FROM metric_stats o \(join) runs r ON r.id = o.run_id WHERE o.key = ?"
            switch bucket {
            case .number:
                return sorted(
                    SQLFragment(from + " AND o.\(column) IS NOT NULL", [.text(key)]),
                    value: "o.\(column)",
                    cursorValue: cursor?.numberValue.map(SQLValue.real),
                    tie: ("r.started_at", "r.id")
                )
            case .nan, .text:
                return unsorted(SQLFragment(from + " AND o.\(column) IS NULL", [.text(key)]))
            case .missing, .all:
                return unsorted(
                    SQLFragment(
                        "FROM runs r WHERE NOT EXISTS (SELECT 1 FROM metric_stats o WHERE o.run_id = r.id AND o.key = ?)",
                        [.text(key)]
                    )
                )
            }
        }
    }
}
