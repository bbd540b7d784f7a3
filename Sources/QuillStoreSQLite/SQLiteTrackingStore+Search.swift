import GRDB
import QuillCore
package import QuillStore

extension SQLiteTrackingStore {
    /// Searches runs in SQL: the query is translated by ``SearchQueryTranslator``, the order read bucket by
    /// bucket (``SearchOrder``) with keyset paging, as ``SearchPlan`` lays out, and only the page's runs get
    /// their details, in four batched queries.
    ///
    /// Results are those of filtering the runs ``RunSearch/lifecycle`` admits (active ones by default) by their
    /// ``RunDetails/queryable`` with ``RunQuery/matches(_:)`` and
    /// sorting with ``RunSort`` (ties newest first, then by id, descending). A cursor is the last run's
    /// sort key, so pages neither skip nor repeat runs while runs are added.
    package func searchRuns(_ search: RunSearch) async throws -> RunPage {
        let initial = try SearchPlan<StoredRun>(search, dialect: .sqlite)
        guard !search.projectIDs.isEmpty else { return RunPage(runs: [], nextCursor: nil) }
        return try await read { db in
            var plan = initial
            // The comparison the fewest runs pass, when fewer than `sparse` do (counted on its index).
            var narrowest: (count: Int, runs: SQLFragment)?
            for runs in plan.narrowing {
                let probe = plan.probe(runs)
                let sparse = SearchPlan<StoredRun>.sparse
                let count = try Int.fetchOne(db, sql: probe.sql, arguments: probe.statementArguments) ?? sparse
                if count < sparse, count < narrowest?.count ?? .max { narrowest = (count, runs) }
            }
            if let narrowest { plan.narrow(to: narrowest.runs) }
            let evaluator = plan.translator.fallbacks.isEmpty ? nil : plan.translator.evaluator()
            if let evaluator { db.add(function: evaluator) }
            defer { if let evaluator { db.remove(function: evaluator) } }

            while let statement = plan.nextStatement(runColumns: "r.*") {
                var runs: [(run: StoredRun, cursor: SearchCursor)] = []
                for row in try Row.fetchAll(db, sql: statement.sql, arguments: statement.statementArguments) {
                    let record = RunRecord(row: row)
                    let position = plan.position(
                        number: row[SearchOrder.Columns.sortNumber],
                        text: row[SearchOrder.Columns.sortText],
                        startedAt: record.startedAt,
                        id: record.id
                    )
                    runs.append((try record.stored(), position))
                }
                plan.accept(runs, fetched: runs.count, last: runs.last?.cursor)
            }
            let page = plan.page()
            return RunPage(runs: try Self.details(db, page.runs), nextCursor: page.nextCursor)
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

    /// Recomputes the search index of every run (after importing rows with SQL, as the benchmark does).
    package func rebuildSearchIndex() async throws {
        try await write { db in try SearchIndex.rebuild(db) }
    }
}
