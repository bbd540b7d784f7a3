import Foundation
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillTesting
import Testing

@Suite("PostgreSQL search")
struct PostgresSearchTests {
    // The search cases of TrackingStoreConformance run with the whole contract in PostgresTrackingStoreTests.

    @Test("every differential query and sort answers as the in-memory evaluation, on rows written with SQL")
    func differentialOnRowsWrittenWithSQL() async throws {
        try await TestPostgres.withStore("search_sql") { store in
            let writer = SQLRunWriter(store: store)
            let project = try await writer.project("differential")
            let other = try await writer.project("other")
            var random = SeededGenerator(seed: 20_261_130)
            var written: [RunDetails] = []
            for index in 0..<200 {
                let details = SQLRunWriter.randomRun(index: index, projectID: project, using: &random)
                try await writer.write(details)
                written.append(details)
            }
            // A run of another project and a run in the trash never show up.
            var foreign = SQLRunWriter.randomRun(index: 1000, projectID: other, using: &random)
            foreign.params["lr"] = 0.01
            foreign.run.config = ["lr": 0.5, "optimizer": ["name": "e\u{301}te\u{301}"]]
            try await writer.write(foreign)
            var deleted = SQLRunWriter.randomRun(index: 1001, projectID: project, using: &random)
            deleted.run.deletedAt = Date(timeIntervalSince1970: 1_700_000_500)
            try await writer.write(deleted)

            // The runs as the store reads them back (values after their JSON round trip), as the contract's
            // differential check takes them.
            var every = RunSearch(projectIDs: [project])
            every.limit = 1000
            let all = try await store.searchRuns(every).runs
            #expect(Set(all.map(\.run.id)) == Set(written.map(\.run.id)))
            try await TrackingStoreConformance.compareWithInMemory(store, projectID: project, runs: all, pageSize: 13)
            // The trash alone, and both.
            var trash = RunSearch(projectIDs: [project])
            trash.lifecycle = .deleted
            #expect(try await store.searchRuns(trash).runs.map(\.run.id) == [deleted.run.id])
            trash.lifecycle = .all
            trash.limit = 1000
            #expect(try await store.searchRuns(trash).runs.count == all.count + 1)
            // Both projects at once.
            var both = RunSearch(projectIDs: [project, other])
            both.query = try RunQuery(parsing: "params.lr = 0.01")
            both.limit = 1000
            #expect(try await store.searchRuns(both).runs.contains { $0.run.id == foreign.run.id })
            // Details come back as written.
            let first = try #require(try await store.searchRuns(RunSearch(projectIDs: [other])).runs.first)
            #expect(first.run == foreign.run && first.params == foreign.params && first.tags == foreign.tags)
            #expect(first.metrics.mapValues(\.count) == foreign.metrics.mapValues(\.count))
        }
    }

    @Test("pages neither skip nor repeat a run while runs are written between them, in every order")
    func pagesUnderWrites() async throws {
        try await TestPostgres.withStore("search_paging") { store in
            let writer = SQLRunWriter(store: store)
            let project = try await writer.project("paging")
            var random = SeededGenerator(seed: 11)
            for index in 0..<60 {
                try await writer.write(SQLRunWriter.randomRun(index: index, projectID: project, using: &random))
            }
            var every = RunSearch(projectIDs: [project])
            every.limit = 1000
            let before = Set(try await store.searchRuns(every).runs.map(\.run.id))
            var written = 1000
            for sortText in [nil, "params.lr", "-params.lr", "metrics.loss.min", "summary.note", "name"] {
                var search = RunSearch(projectIDs: [project])
                search.sort = try sortText.map { try RunSort(parsing: $0) }
                search.limit = 7
                var seen: [RunID] = []
                while true {
                    let page = try await store.searchRuns(search)
                    seen += page.runs.map(\.run.id)
                    guard let next = page.nextCursor else { break }
                    search.cursor = next
                    // A new run between two pages, anywhere in the order.
                    try await writer.write(SQLRunWriter.randomRun(index: written, projectID: project, using: &random))
                    written += 1
                }
                #expect(Set(seen).count == seen.count, "no run twice, sort \(sortText ?? "-")")
                #expect(before.isSubset(of: Set(seen)), "every run there before, sort \(sortText ?? "-")")
            }
        }
    }

    @Test("a cursor of another order, or not a cursor, is refused; an empty project list finds nothing")
    func cursors() async throws {
        try await TestPostgres.withStore("search_cursor") { store in
            let writer = SQLRunWriter(store: store)
            let project = try await writer.project("cursors")
            var random = SeededGenerator(seed: 3)
            for index in 0..<7 {
                try await writer.write(SQLRunWriter.randomRun(index: index, projectID: project, using: &random))
            }
            var search = RunSearch(projectIDs: [project])
            search.limit = 3
            let cursor = try #require(try await store.searchRuns(search).nextCursor)
            search.sort = try RunSort(parsing: "params.lr")
            search.cursor = cursor
            await #expect(throws: QuillError.self) { try await store.searchRuns(search) }
            search.cursor = "not-a-cursor"
            await #expect(throws: QuillError.self) { try await store.searchRuns(search) }
            #expect(try await store.searchRuns(RunSearch(projectIDs: [])).runs.isEmpty)
        }
    }

    @Test("comparisons under `or` and `and` are tested run by run as the order reads runs, at 10,000 runs")
    func filtersTestRunByRun() async throws {
        try await TestPostgres.withStore("search_fence") { store in
            let writer = SQLRunWriter(store: store)
            let project = try await writer.project("fence")
            try await writer.bulk(project: project, runs: 10_000)
            for query in [
                "params.lr in (0.01, 0.02) and metrics.loss.min < 0.5 or params.name = n3",
                "params.name = n3 and metrics.loss.min < 0.9 and params.lr > 0.01",
            ] {
                var search = RunSearch(projectIDs: [project])
                search.query = try RunQuery(parsing: query)
                search.limit = 50
                #expect(try await store.searchRuns(search).runs.count == 50, "\(query)")
                // A hashed subplan or a join reads every run's value of a field before the first row; a
                // subplan per run reads a few hundred index entries for a page of 50.
                let plan = try await store.explainSearch(search)
                #expect(!plan.contains("hashed SubPlan") && !plan.contains("Join"), "\(query):\n\(plan)")
                #expect(plan.contains("SubPlan"), "\(query):\n\(plan)")
            }
        }
    }

    @Test("sorts on a param and on a metric read their index at 10,000 runs")
    func sortsUseIndexes() async throws {
        try await TestPostgres.withStore("search_explain") { store in
            let writer = SQLRunWriter(store: store)
            let project = try await writer.project("explain")
            try await writer.bulk(project: project, runs: 10_000)
            for (sort, index) in [
                ("params.lr", "search_fields_by_number"), ("-params.lr", "search_fields_by_number_desc"),
                ("metrics.loss.min", "metric_stats_by_min"),
                ("-metrics.loss", "metric_stats_by_last"),
            ] {
                var search = RunSearch(projectIDs: [project])
                search.sort = try RunSort(parsing: sort)
                search.limit = 50
                let page = try await store.searchRuns(search)
                #expect(page.runs.count == 50, "sort \(sort)")
                let plan = try await store.explainSearch(search)
                #expect(plan.contains(index), "sort \(sort) reads \(index):\n\(plan)")
                // No node sorts all the rows (an incremental sort of the ties of one value is fine).
                let sorts = plan.split(separator: "\n").filter {
                    $0.trimmingCharacters(in: .whitespaces).hasPrefix("Sort  (") || $0.contains("->  Sort  (")
                }
                #expect(sorts.isEmpty, "sort \(sort) sorts no rows:\n\(plan)")
            }
        }
    }
}

/// Writes runs with SQL (projects, runs, params, tags, metric statistics) and refreshes their search rows,
/// so search is tested on its own, whatever the state of the tracking writes.
struct SQLRunWriter {
    let store: PostgresStore
    let logger = Logger(label: "search-test")

    /// A project; its id.
    func project(_ name: String) async throws -> Int64 {
        try await store.withConnection { connection in
            var id: Int64 = 0
            for try await value in try await connection.query(
                "INSERT INTO projects (namespace, slug, display_name, created_at) VALUES ('ada', \(name), \(name), 0) RETURNING id",
                logger: logger
            ).decode(Int64.self) {
                id = value
            }
            return id
        }
    }

    /// Writes a run and its search rows in one transaction.
    func write(_ details: RunDetails) async throws {
        let run = details.run
        let micros = { (date: Date) in Timestamp.microseconds(date) }
        try await store.transaction { connection in
            let config = JSONWriter.string(.object(run.config))
            let summary = JSONWriter.string(.object(run.summary))
            try await connection.query(
                """
                INSERT INTO runs (id, project_id, name, kind, status, created_at, updated_at, started_at, ended_at,
                    "user", host, config, summary, deleted_at)
                VALUES (\(run.id.rawValue), \(run.projectID), \(run.name), \(run.kind.description),
                    \(run.status.rawValue), \(micros(run.createdAt)), \(micros(run.updatedAt)), \(micros(run.startedAt)),
                    \(run.endedAt.map(micros)), \(run.user), \(run.host), \(config), \(summary),
                    \(run.deletedAt.map(micros)))
                """,
                logger: logger
            )
            for (key, value) in details.params {
                try await connection.query(
                    "INSERT INTO params (run_id, key, value) VALUES (\(run.id.rawValue), \(key), \(JSONWriter.string(value)))",
                    logger: logger
                )
            }
            for (key, value) in details.tags {
                try await connection.query(
                    "INSERT INTO tags (run_id, key, value) VALUES (\(run.id.rawValue), \(key), \(value))",
                    logger: logger
                )
            }
            for (key, stats) in details.metrics {
                let last: Double? = stats.last.isNaN ? nil : stats.last
                let min: Double? = stats.min.isNaN ? nil : stats.min
                let max: Double? = stats.max.isNaN ? nil : stats.max
                try await connection.query(
                    """
                    INSERT INTO metric_stats (run_id, key, count, last_idx, last_value, last_step, max_step, min_value, max_value)
                    VALUES (\(run.id.rawValue), \(key), \(stats.count), \(stats.count - 1), \(last), \(stats.lastStep),
                        \(stats.lastStep ?? 0), \(min), \(max))
                    """,
                    logger: logger
                )
            }
            try await store.refreshSearchIndex(runID: run.id, on: connection)
        }
    }

    /// `runs` runs in a project written in a few statements (params `lr` and `name`, metric `loss`), then
    /// the whole search index rebuilt and the tables analyzed.
    func bulk(project: Int64, runs: Int) async throws {
        try await store.withConnection { connection in
            try await connection.query(
                """
                INSERT INTO runs (id, project_id, name, kind, status, created_at, updated_at, started_at, config, summary)
                SELECT 'r' || g, \(project), 'run-' || g, 'training', 'completed', g, g, 1700000000000000 + (g % 5000) * 1000000,
                    json_build_object('lr', (g % 97) / 1000.0, 'name', 'n' || (g % 13))::text, '{}'
                FROM generate_series(1, \(runs)) AS g
                """,
                logger: logger
            )
            try await connection.query(
                """
                INSERT INTO metric_stats (run_id, key, count, last_idx, last_value, last_step, max_step, min_value, max_value)
                SELECT id, 'loss', 10, 9, random(), 9, 9, random(), random() FROM runs WHERE project_id = \(project)
                """,
                logger: logger
            )
        }
        try await store.rebuildSearchIndex()
        try await store.withConnection { connection in
            _ = try await connection.query("ANALYZE", logger: logger)
        }
    }

    /// A run with awkward values (numeric text, NaN, infinities, booleans, null, non-NFC text, nested config).
    static func randomRun(index: Int, projectID: Int64, using random: inout SeededGenerator) -> RunDetails {
        func pick<T>(_ values: [T]) -> T {
            values[Int.random(in: 0..<values.count, using: &random)]
        }
        let started = Date(timeIntervalSince1970: 1_700_000_000 + Double(Int.random(in: 0..<40, using: &random)))
        var config: [String: JSONValue] = [:]
        if let lr = pick([0.1, 0.01, 0.01, 0.001, "0.01", "NaN", .double(.infinity), "fast", nil] as [JSONValue?]) {
            config["lr"] = lr
        }
        if Bool.random(using: &random) {
            var optimizer: [String: JSONValue] = [
                "name": pick(["adam", "sgd", "Adam", "e\u{301}te\u{301}", "été", "zeta", "a%b_c\\"])
            ]
            if Bool.random(using: &random) { optimizer["momentum"] = pick([0.9, 0.5, 0.95]) }
            config["optimizer"] = .object(optimizer)
        }
        if let flag = pick([true, false, .null, nil] as [JSONValue?]) { config["flag"] = flag }
        let hasHost = Int.random(in: 0..<3, using: &random) > 0
        let run = StoredRun(
            id: RunID("run\(index)-\(Int.random(in: 0..<1000, using: &random))") ?? RunID.random(),
            projectID: projectID,
            name: "run-\(index)",
            description: nil,
            kind: pick([.training, .training, .custom("distill"), .custom("42")]),
            parent: nil,
            status: pick([.running, .completed, .completed, .failed, .crashed]),
            createdAt: started,
            updatedAt: started,
            startedAt: started,
            endedAt: Bool.random(using: &random) ? started.addingTimeInterval(Double(pick([10, 20, 30]))) : nil,
            user: hasHost ? pick(["ada", "grace", ""]) : nil,
            host: hasHost ? pick(["gpu-1", "gpu-2", "cpu"]) : nil,
            git: nil,
            environment: nil,
            config: config,
            summary: Bool.random(using: &random)
                ? [
                    "acc": pick([0.95, 0.5, "NaN", .int(1)]),
                    "note": pick(["café", "cafe\u{301}", "zzz", "NaN", .null]),
                ] : [:]
        )
        var params: [String: JSONValue] = [:]
        if let layers = pick([3, 4, .double(3.0), "3", "three", nil] as [JSONValue?]) { params["layers"] = layers }
        if let mixed = pick(["10", 10, "abc", .array([1, 2]), .object(["a": 1]), nil] as [JSONValue?]) {
            params["mixed"] = mixed
        }
        if Bool.random(using: &random) { params["lr"] = pick([0.01, 0.001, "0.01"]) }
        var tags: [String: String] = [:]
        if Bool.random(using: &random) { tags["team"] = pick(["vision", "nlp", "Vision"]) }
        if Bool.random(using: &random) { tags["stage"] = pick(["1", "2", "02", "10", "x"]) }
        if Bool.random(using: &random) { tags["label"] = pick(["", "a"]) }
        var metrics: [String: MetricStatistics] = [:]
        if Int.random(in: 0..<4, using: &random) > 0 {
            let values = (0..<Int.random(in: 1..<4, using: &random)).map { _ in
                pick([0.5, 0.25, 0.3, .nan, .infinity, -.infinity, 1.0])
            }
            let finite = values.filter { !$0.isNaN }
            metrics["loss"] = MetricStatistics(
                count: values.count,
                last: values[values.count - 1],
                lastStep: values.count - 1,
                min: finite.min() ?? .nan,
                max: finite.max() ?? .nan
            )
        }
        if Bool.random(using: &random) {
            metrics["acc"] = MetricStatistics(count: 2, last: 1, lastStep: 1, min: 0.5, max: pick([1.0, 2.0, 3.0]))
        }
        return RunDetails(run: run, params: params, tags: tags, links: [], metrics: metrics)
    }
}
