import GRDB
import QuillCore
package import QuillStore

extension SQLiteTrackingStore {
    /// Searches runs in SQL: the query is translated by ``SQLiteQueryTranslator``, the order read bucket by
    /// bucket (``SearchOrder``) with keyset paging, and only the page's runs get their details, in four
    /// batched queries.
    ///
    /// Results are those of filtering the runs ``RunSearch/lifecycle`` admits (active ones by default) by their
    /// ``RunDetails/queryable`` with ``RunQuery/matches(_:)`` and
    /// sorting with ``RunSort`` (ties newest first, then by id, descending). A cursor is the last run's
    /// sort key, so pages neither skip nor repeat runs while runs are added.
    package func searchRuns(_ search: RunSearch) async throws -> RunPage {
        let order = SearchOrder(sort: search.sort)
        let cursor = try search.cursor.map { try SearchCursor(decoding: $0, for: order) }
        let limit = max(1, min(search.limit, 1000))
        guard !search.projectIDs.isEmpty else { return RunPage(runs: [], nextCursor: nil) }
        let query = search.query
        let projectIDs = search.projectIDs
        let lifecycle = search.lifecycle
        return try await read { db in
            var translator = SQLiteQueryTranslator()
            let placeholders = Array(repeating: "?", count: projectIDs.count).joined(separator: ", ")
            // One project: its index (project, start, id) gives the default order. Several (the server's
            // search over every project): `+` keeps SQLite from that index, which would sort all their runs,
            // and lets it read `runs_by_start` in order instead.
            let column = projectIDs.count == 1 ? "r.project_id" : "+r.project_id"
            var filter = SQLFragment("\(column) IN (\(placeholders))", StatementArguments(projectIDs))
            // The trash: a test on the row each order reads anyway (active runs), or the partial index
            // `runs_deleted_by_project` (deleted ones).
            switch lifecycle {
            case .active: filter = filter + " AND r.deleted_at IS NULL"
            case .deleted: filter = filter + " AND r.deleted_at IS NOT NULL"
            case .all: break
            }
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
                    let record = RunRecord(row: row)
                    let run = try record.stored()
                    let position = SearchCursor(
                        order: order.signature,
                        bucket: bucket.rawValue,
                        number: row[SearchOrder.Columns.sortNumber],
                        text: row[SearchOrder.Columns.sortText],
                        startedAt: record.startedAt,
                        id: record.id
                    )
                    found.append((run, position))
                }
            }
            let page = found.prefix(limit)
            let next = found.count > limit ? page.last?.cursor.encoded : nil
            return RunPage(runs: try Self.details(db, page.map(\.run)), nextCursor: next)
        }
    }

    /// The details of several runs, in their order, in one query per table (the one mapping of a run's
    /// details: a run page and a search page both come here).
    static func details(_ db: Database, _ runs: [StoredRun]) throws -> [RunDetails] {
        guard !runs.isEmpty else { return [] }
        let ids = runs.map(\.id.rawValue)
        var params: [String: [String: JSONValue]] = [:]
        for param in try ParamRecord.filter(ids.contains(ParamRecord.Columns.runID)).fetchAll(db) {
            params[param.runID, default: [:]][param.key] = param.json
        }
        var tags: [String: [String: String]] = [:]
        for tag in try TagRecord.filter(ids.contains(TagRecord.Columns.runID)).fetchAll(db) {
            tags[tag.runID, default: [:]][tag.key] = tag.value
        }
        var links: [String: [RunLink]] = [:]
        for link in try LinkRecord.filter(ids.contains(LinkRecord.Columns.runID)).order(LinkRecord.Columns.id)
            .fetchAll(db)
        {
            links[link.runID, default: []].append(link.link)
        }
        var metrics: [String: [String: MetricStatistics]] = [:]
        for stats in try MetricStatsRecord.filter(ids.contains(MetricStatsRecord.Columns.runID)).fetchAll(db) {
            metrics[stats.runID, default: [:]][stats.key] = stats.statistics
        }
        return TrackingRules.details(runs, params: params, tags: tags, links: links, metrics: metrics)
    }

    /// Recomputes the search index of every run (after importing rows with SQL, as the benchmark does).
    package func rebuildSearchIndex() async throws {
        try await write { db in try SearchIndex.rebuild(db) }
    }
}
