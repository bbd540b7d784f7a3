package import PostgresNIO
package import QuillCore
package import QuillStore

// The search side of the PostgreSQL store (issue 15): the `search_fields` index and the searches. What is
// not SQL execution (the rows of `search_fields`, the translation of the query language, the order, the
// cursors) lives in QuillStore/Search, shared with SQLite.
extension PostgresStore {
    /// Searches runs in SQL, as the SQLite store does: the query is translated by ``SearchQueryTranslator``,
    /// the order read bucket by bucket (``SearchOrder``) with keyset paging, as ``SearchPlan`` lays out, in
    /// one read-only `REPEATABLE READ` snapshot (``snapshot(_:)``), and only the page's runs get their details.
    ///
    /// Results are those of filtering the runs ``RunSearch/lifecycle`` admits by their
    /// ``RunDetails/queryable`` with ``RunQuery/matches(_:)`` and sorting with ``RunSort`` (ties newest first,
    /// then by id, descending). Comparisons PostgreSQL cannot say exactly (``SearchQueryTranslator``) admit
    /// more runs in SQL, which are then checked with ``RunQuery/matches(_:)``.
    package func searchRuns(_ search: RunSearch) async throws -> RunPage {
        let initial = try SearchPlan<StoredRun>(search, dialect: .postgres)
        guard !search.projectIDs.isEmpty else { return RunPage(runs: [], nextCursor: nil) }
        let logger = self.logger
        return try await snapshot { connection in
            var plan = initial
            // The comparison the fewest runs pass, when fewer than `sparse` do (each counted on its index, all
            // in one statement).
            if let probes = plan.probes() {
                var narrowest: (count: Int64, runs: SQLFragment)?
                for try await row in try await connection.query(probes.postgresQuery, logger: logger) {
                    let counts = row.makeRandomAccess()
                    for (index, runs) in plan.narrowing.enumerated() {
                        let count = try counts[index].decode(Int64.self)
                        if count < Int64(SearchPlan<StoredRun>.sparse), count < narrowest?.count ?? .max {
                            narrowest = (count, runs)
                        }
                    }
                }
                if let narrowest { plan.narrow(to: narrowest.runs) }
            }

            let recheck = plan.translator.needsRecheck ? plan.query : nil
            while let statement = plan.nextStatement(runColumns: PostgresSearch.runColumns) {
                var runs: [(run: StoredRun, cursor: SearchCursor)] = []
                for try await row in try await connection.query(statement.postgresQuery, logger: logger) {
                    let columns = row.makeRandomAccess()
                    let run = try PostgresSearch.run(columns)
                    let position = plan.position(
                        number: try columns[SearchOrder.Columns.sortNumber].decode(Double?.self),
                        text: try columns[SearchOrder.Columns.sortText].decode(String?.self),
                        startedAt: run.startedAt,
                        id: run.id
                    )
                    runs.append((try run.stored(), position))
                }
                let last = runs.last?.cursor
                var kept = runs
                if let recheck {
                    let details = try await self.details(connection, runs.map(\.run))
                    kept = zip(runs, details).filter { recheck.matches($0.1.queryable) }.map(\.0)
                }
                plan.accept(kept, fetched: runs.count, last: last)
            }
            let page = plan.page()
            return RunPage(
                runs: try await self.details(connection, page.runs),
                nextCursor: page.nextCursor
            )
        }
    }

    /// Recomputes a run's rows of `search_fields` inside the caller's transaction: every write that changes a
    /// run's record, params, tags or summary calls it before committing (as `SearchIndex.refresh` does on
    /// SQLite). The rows are ``SearchFieldRow``'s, the same as SQLite's.
    package func refreshSearchIndex(runID: RunID, on connection: PostgresConnection) async throws {
        try await connection.query("DELETE FROM search_fields WHERE run_id = \(runID.rawValue)", logger: logger)
        let select = SQLFragment(
            "SELECT \(PostgresSearch.runColumns) FROM runs r WHERE r.id = ?",
            [.text(runID.rawValue)]
        )
        try await PostgresSearch.index(select, on: connection, logger: logger)
    }

    /// Recomputes the search index of every run, 1,000 runs a statement (after importing rows with SQL, as
    /// the benchmark and `quill db copy` do).
    package func rebuildSearchIndex() async throws {
        let logger = self.logger
        try await transaction { connection in
            try await connection.query("DELETE FROM search_fields", logger: logger)
            var after = ""
            while true {
                let select = SQLFragment(
                    "SELECT \(PostgresSearch.runColumns) FROM runs r WHERE r.id > ? ORDER BY r.id LIMIT 1000",
                    [.text(after)]
                )
                guard let last = try await PostgresSearch.index(select, on: connection, logger: logger) else { break }
                after = last
            }
        }
    }

    /// The plan PostgreSQL makes for the first statement of a search (`EXPLAIN`), to check which indexes it reads.
    package func explainSearch(_ search: RunSearch) async throws -> String {
        var plan = try SearchPlan<StoredRun>(search, dialect: .postgres)
        guard let statement = plan.nextStatement(runColumns: PostgresSearch.runColumns) else { return "" }
        let logger = self.logger
        return try await withConnection { connection in
            var lines: [String] = []
            let explain = "EXPLAIN " + statement
            for try await line in try await connection.query(explain.postgresQuery, logger: logger).decode(String.self)
            {
                lines.append(line)
            }
            return lines.joined(separator: "\n")
        }
    }
}
