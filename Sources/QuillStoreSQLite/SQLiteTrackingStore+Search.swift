import GRDB
import QuillCore
package import QuillStore

extension SQLiteTrackingStore {
    /// Searches runs in SQL: the query is translated by ``SQLiteQueryTranslator``, the order read bucket by
    /// bucket (``SearchOrder``) with keyset paging, and only the page's runs get their details, in four
    /// batched queries.
    ///
    /// Results are those of filtering every run's ``RunDetails/queryable`` with ``RunQuery/matches(_:)`` and
    /// sorting with ``RunSort`` (ties newest first, then by id, descending). A cursor is the last run's
    /// sort key, so pages neither skip nor repeat runs while runs are added.
    package func searchRuns(_ search: RunSearch) async throws -> RunPage {
        let order = SearchOrder(sort: search.sort)
        let cursor = try search.cursor.map { try SearchCursor(decoding: $0, for: order) }
        let limit = max(1, min(search.limit, 1000))
        guard !search.projectIDs.isEmpty else { return RunPage(runs: [], nextCursor: nil) }
        let query = search.query
        let projectIDs = search.projectIDs
        return try await read { db in
            var translator = SQLiteQueryTranslator()
            let placeholders = Array(repeating: "?", count: projectIDs.count).joined(separator: ", ")
            // One project: its index (project, start, id) gives the default order. Several (the server's
            // search over every project): `+` keeps SQLite from that index, which would sort all their runs,
            // and lets it read `runs_by_start` in order instead.
            let column = projectIDs.count == 1 ? "r.project_id" : "+r.project_id"
            var filter = SQLFragment("\(column) IN (\(placeholders))", StatementArguments(projectIDs))
            if let query {
                filter = filter + " AND " + translator.condition(query.expression)
                // The comparison the fewest runs pass, when fewer than `sparse` do (counted on its index).
                let sparse = 5000
                var narrowest: (count: Int, runs: SQLFragment)?
                for runs in SQLiteQueryTranslator.narrowing(query.expression) {
                    let probe = "SELECT count(*) FROM (" + runs + " LIMIT \(sparse))"
                    let count = try Int.fetchOne(db, sql: probe.sql, arguments: probe.arguments) ?? sparse
                    if count < sparse, count < narrowest?.count ?? .max { narrowest = (count, runs) }
                }
                if let narrowest { filter = filter + " AND r.id IN (" + narrowest.runs + ")" }
            }
            let evaluator = translator.fallbacks.isEmpty ? nil : translator.evaluator()
            if let evaluator { db.add(function: evaluator) }
            defer { if let evaluator { db.remove(function: evaluator) } }

            var found: [(run: StoredRun, cursor: SearchCursor)] = []
            let wanted = limit + 1
            var buckets = order.buckets[...]
            if let cursor { buckets = buckets.drop { $0.rawValue != cursor.bucket } }
            for bucket in buckets where found.count < wanted {
                let after = cursor?.bucket == bucket.rawValue ? cursor : nil
                let sql = order.query(bucket, filter: filter, after: after, limit: wanted - found.count)
                for row in try Row.fetchAll(db, sql: sql.sql, arguments: sql.arguments) {
                    let run = try Self.run(from: row)
                    let sortNumber: Double? = row["sort_num"]
                    let sortText: String? = row["sort_txt"]
                    let position = SearchCursor(
                        order: order.signature,
                        bucket: bucket.rawValue,
                        number: sortNumber,
                        text: sortText,
                        startedAt: row["started_at"],
                        id: run.id.rawValue
                    )
                    found.append((run, position))
                }
            }
            let page = found.prefix(limit)
            let next = found.count > limit ? page.last?.cursor.encoded : nil
            return RunPage(runs: try Self.details(db, page.map(\.run)), nextCursor: next)
        }
    }

    /// The details of several runs, in their order, in one query per table.
    static func details(_ db: Database, _ runs: [StoredRun]) throws -> [RunDetails] {
        guard !runs.isEmpty else { return [] }
        let ids = runs.map(\.id.rawValue)
        let list = "(" + Array(repeating: "?", count: ids.count).joined(separator: ", ") + ")"
        let arguments = StatementArguments(ids)
        var params: [String: [String: JSONValue]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: "SELECT run_id, key, value FROM params WHERE run_id IN \(list)",
            arguments: arguments
        ) {
            params[row[0], default: [:]][row[1]] = json(row[2]) ?? .null
        }
        var tags: [String: [String: String]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: "SELECT run_id, key, value FROM tags WHERE run_id IN \(list)",
            arguments: arguments
        ) {
            tags[row[0], default: [:]][row[1]] = row[2]
        }
        var links: [String: [RunLink]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: "SELECT run_id, label, url, created_at FROM links WHERE run_id IN \(list) ORDER BY id",
            arguments: arguments
        ) {
            links[row[0], default: []].append(
                RunLink(label: row[1], url: row[2], timestamp: Timestamp.date(microseconds: row[3]))
            )
        }
        var metrics: [String: [String: MetricStatistics]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM metric_stats WHERE run_id IN \(list)", arguments: arguments)
        {
            metrics[row["run_id"], default: [:]][row["key"]] = statistics(from: row)
        }
        return runs.map { run in
            let id = run.id.rawValue
            return RunDetails(
                run: run,
                params: params[id] ?? [:],
                tags: tags[id] ?? [:],
                links: links[id] ?? [],
                metrics: metrics[id] ?? [:]
            )
        }
    }

    /// Statistics from a `metric_stats` row (NULL values are NaN).
    static func statistics(from row: Row) -> MetricStatistics {
        let last: Double? = row["last_value"]
        let minimum: Double? = row["min_value"]
        let maximum: Double? = row["max_value"]
        return MetricStatistics(
            count: row["count"],
            last: last ?? .nan,
            lastStep: row["last_step"],
            min: minimum ?? .nan,
            max: maximum ?? .nan
        )
    }

    /// Recomputes the search index of every run (after importing rows with SQL, as the benchmark does).
    package func rebuildSearchIndex() async throws {
        try await write { db in try SearchIndex.rebuild(db) }
    }
}
