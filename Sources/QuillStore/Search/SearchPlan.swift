package import QuillCore

/// A search as SQL, the same for every store: the filter (projects, lifecycle, query), the order, the cursor
/// it continues from, and the pages' bucket by bucket reading. A store only probes, binds and runs the
/// statements it gives, and fetches the details of the runs found:
///
/// ```swift
/// var plan = try SearchPlan(search, dialect: .postgres)
/// for runs in plan.narrowing { if count of plan.probe(runs) < SearchPlan.sparse { … plan.narrow(to: runs) } }
/// while let statement = plan.nextStatement(runColumns: "r.*") {
///     let rows = … // run the statement
///     plan.accept(rows.map { (run, plan.position(number:text:startedAt:id:)) }, fetched: rows.count)
/// }
/// let (runs, next) = plan.page()
/// ```
package struct SearchPlan<Run: Sendable>: Sendable {
    /// The order.
    package let order: SearchOrder
    /// The most runs in a page (1…1000).
    package let limit: Int
    /// The condition on `runs r` every run found passes.
    package private(set) var filter: SQLFragment
    /// The translation of the query (its fallbacks, whether runs found need a recheck).
    package let translator: SearchQueryTranslator
    /// The query, when the search has one.
    package let query: RunQuery?
    /// Queries of the ids of runs that one comparison every match passes admits (see
    /// ``SearchQueryTranslator/narrowing(_:)``): a store counts each with ``probe(_:)`` and adds the
    /// smallest with ``narrow(to:)`` when it is below ``sparse``.
    package let narrowing: [SQLFragment]
    /// Below this many runs, narrowing pays.
    package static var sparse: Int { 5000 }

    private var buckets: ArraySlice<SearchOrder.Bucket>
    private var after: SearchCursor?
    private var found: [(run: Run, cursor: SearchCursor)] = []
    private let empty: Bool
    private var asked = 0

    /// The plan of a search.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` for a cursor that is not a
    ///   ``RunPage/nextCursor`` of this order.
    package init(_ search: RunSearch, dialect: SQLDialect) throws {
        let order = SearchOrder(sort: search.sort, dialect: dialect)
        self.order = order
        let cursor = try search.cursor.map { try SearchCursor(decoding: $0, for: order) }
        limit = max(1, min(search.limit, 1000))
        query = search.query
        empty = search.projectIDs.isEmpty
        var translator = SearchQueryTranslator(dialect: dialect)
        // One project: its index (project, start, id) gives the default order. Several (the server's search
        // over every project): on SQLite `+` keeps the planner from that index, which would sort all their
        // runs, and lets it read `runs_by_start` in order instead.
        let column = search.projectIDs.count == 1 || dialect != .sqlite ? "r.project_id" : "+r.project_id"
        filter = SQLFragment(
            "\(column) IN (\(SQLFragment.placeholders(search.projectIDs.count)))",
            search.projectIDs.map { .integer($0) }
        )
        // The trash: a test on the row each order reads anyway (active runs), or the partial index
        // `runs_deleted_by_project` (deleted ones).
        switch search.lifecycle {
        case .active: filter = filter + " AND r.deleted_at IS NULL"
        case .deleted: filter = filter + " AND r.deleted_at IS NOT NULL"
        case .all: break
        }
        if let query = search.query {
            filter = filter + " AND " + translator.condition(query.expression)
            narrowing = SearchQueryTranslator.narrowing(query.expression)
        } else {
            narrowing = []
        }
        self.translator = translator
        buckets = order.buckets[...]
        if let cursor { buckets = buckets.drop { $0.rawValue != cursor.bucket } }
        after = cursor
    }

    /// The count, up to ``sparse``, of the runs a narrowing query admits.
    package func probe(_ runs: SQLFragment) -> SQLFragment {
        "SELECT count(*) FROM (" + runs + " LIMIT \(Self.sparse)) AS narrowed"
    }

    /// The counts, up to ``sparse``, of the runs each narrowing query admits, in one statement (one round trip
    /// to a database server): one row, a column per query of ``narrowing``; `nil` when there is none.
    package func probes() -> SQLFragment? {
        guard !narrowing.isEmpty else { return nil }
        var statement = SQLFragment("SELECT ")
        for (index, runs) in narrowing.enumerated() {
            if index > 0 { statement = statement + ", " }
            statement = statement + "(" + probe(runs) + ")"
        }
        return statement
    }

    /// Adds a narrowing query (one of ``narrowing``) to the filter.
    package mutating func narrow(to runs: SQLFragment) {
        filter = filter + " AND r.id IN (" + runs + ")"
    }

    /// The next statement to run, or `nil` when the page is complete. Its rows are `runColumns` (of
    /// `runs r`), then `sort_num` and `sort_txt` (``SearchOrder/Columns``).
    package mutating func nextStatement(runColumns: String) -> SQLFragment? {
        guard !empty, found.count <= limit, let bucket = buckets.first else { return nil }
        // With a recheck some rows fall out: read a little ahead.
        let wanted = limit + 1 - found.count
        asked = translator.needsRecheck ? max(wanted, 100) : wanted
        return order.query(bucket, runColumns: runColumns, filter: filter, after: after, limit: asked)
    }

    /// Where a row of the last statement is in the order (its cursor), from its `sort_num`, `sort_txt`,
    /// start (microseconds) and id.
    package func position(number: Double?, text: String?, startedAt: Int64, id: String) -> SearchCursor {
        SearchCursor(
            order: order.signature,
            bucket: buckets.first?.rawValue ?? SearchOrder.Bucket.all.rawValue,
            number: number,
            text: text,
            startedAt: startedAt,
            id: id
        )
    }

    /// Takes the rows of the last statement: `fetched` rows were read, in order, of which `runs` are the
    /// ones kept (all of them, unless ``SearchQueryTranslator/needsRecheck``), each with its
    /// ``position(number:text:startedAt:id:)``; `last` is the position of the last row read.
    package mutating func accept(_ runs: [(run: Run, cursor: SearchCursor)], fetched: Int, last: SearchCursor?) {
        found.append(contentsOf: runs)
        if fetched < asked || last == nil {
            buckets = buckets.dropFirst()
            after = nil
        } else {
            after = last
        }
    }

    /// The page: at most ``limit`` runs, and the cursor of the next page when there are more.
    package func page() -> (runs: [Run], nextCursor: String?) {
        let page = found.prefix(limit)
        return (page.map(\.run), found.count > limit ? page.last?.cursor.encoded : nil)
    }
}
