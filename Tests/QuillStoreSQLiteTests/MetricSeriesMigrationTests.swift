import Foundation
import GRDB
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

/// Migration "v12: metric points keyed by series": a database written with the v11 schema (points keyed by
/// run id and key text) answers the same after it, and keeps working.
@Suite("SQLite: metric points keyed by series (v12)")
struct MetricSeriesMigrationTests {
    @Test("a v11 database, migrated, answers the same histories, blocks, summaries, counts and searches")
    func migrated() async throws {
        let temp = TemporaryDirectory("quill-series")
        let currentPath = temp.file("current.db")
        let olderPath = temp.file("v11.db")
        let current = try SQLiteTrackingStore(path: currentPath)
        let project = try await current.project(namespace: "ada", displayName: "p")
        var runs: [RunID] = []
        for number in 0..<3 {
            let run = try await current.createRun(NewRun(projectID: project.id)).id
            try await Self.log(current, run, number: number, from: 0)
            runs.append(run)
        }
        let before = try await Self.answers(current, project: project.id, runs: runs)
        #expect(before.histories.count == 18)
        #expect(before.histories.values.contains { $0.count == 3000 })
        #expect(before.searches["metrics.loss.last < 1.5 "]?.count == 2)
        #expect(before.searches["metrics.loss.max > 2 metrics.acc.last"] == ["\(runs[2])"])

        try OlderDatabase.copy(
            currentPath,
            to: olderPath,
            migratedUpTo: "v11: the query language's parent field in the search index"
        )
        #expect(try Self.columns(olderPath, "metrics") == ["run_id", "key", "idx", "step", "value", "ts"])
        #expect(try Self.rowCount(olderPath, "metrics") == 3 * 3050)
        #expect(try Self.rowCount(olderPath, "metric_blocks") > 30)

        let migrated = try SQLiteTrackingStore(path: olderPath)
        #expect(try Self.columns(olderPath, "metrics") == ["series", "idx", "step", "value", "ts"])
        #expect(try Self.columns(olderPath, "metric_blocks").prefix(2) == ["series", "block"])
        #expect(try Self.rowCount(olderPath, "metric_series") == 6)
        let after = try await Self.answers(migrated, project: project.id, runs: runs)
        #expect(after.histories == before.histories)
        #expect(after.downsampled == before.downsampled)
        #expect(after.summaries == before.summaries)
        #expect(after.searches == before.searches)
        #expect(after.counts == before.counts)

        // The migrated database keeps working like a new one: more points extend the same series, and
        // deleting a run deletes its series, points and blocks (the trigger the migration made).
        try await Self.log(current, runs[0], number: 0, from: 3000)
        try await Self.log(migrated, runs[0], number: 0, from: 3000)
        let extendedCurrent = try await Self.answers(current, project: project.id, runs: runs)
        #expect(try await Self.answers(migrated, project: project.id, runs: runs) == extendedCurrent)
        #expect(try Self.rowCount(olderPath, "metric_series") == 6)
        try await migrated.deleteRun(runs[2])
        #expect(try Self.rowCount(olderPath, "metric_series") == 4)
        #expect(try Self.rowCount(olderPath, "metrics") == 6100 + 3050)
        let orphans = try await DatabaseQueue(path: olderPath).read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT (SELECT count(*) FROM metrics WHERE series NOT IN (SELECT id FROM metric_series))
                         + (SELECT count(*) FROM metric_blocks WHERE series NOT IN (SELECT id FROM metric_series))
                    """
            )
        }
        #expect(orphans == 0)
    }

    // MARK: Helpers

    /// What a store answers about its metrics, in comparable form (NaN compares equal to NaN here).
    struct Answers: Equatable {
        var histories: [String: [String]] = [:]
        var downsampled: [String: [String]] = [:]
        var summaries: [String: [String]] = [:]
        var searches: [String: [String]] = [:]
        var counts: String = ""
    }

    /// 3,000 points of `loss` (one run with NaN values), 50 of `acc` sent without an index or step, both with
    /// timestamps in microseconds.
    private static func log(_ store: SQLiteTrackingStore, _ run: RunID, number: Int, from start: Int) async throws {
        let origin = Date(timeIntervalSince1970: 1_700_000_000)
        var batch = LogBatch()
        batch.metrics = (start..<start + 3000).map { index in
            let value = number == 1 && index % 97 == 0 ? Double.nan : Double(number) + 1 / Double(index + 1)
            return MetricValue(
                key: "loss",
                value: value,
                step: index * 2,
                timestamp: origin.addingTimeInterval(Double(index) / 1000),
                index: index
            )
        }
        batch.metrics += (0..<50).map {
            MetricValue(key: "acc", value: Double($0 + number) / 50, timestamp: origin.addingTimeInterval(Double($0)))
        }
        _ = try await store.logBatch(run, batch)
    }

    private static func answers(_ store: SQLiteTrackingStore, project: Int64, runs: [RunID]) async throws -> Answers {
        var answers = Answers()
        for run in runs {
            for key in ["loss", "acc", "missing"] {
                let name = "\(run) \(key)"
                answers.histories[name] = describe(try await store.metricHistory(run, key: key, steps: nil))
                answers.histories[name + " steps"] = describe(
                    try await store.metricHistory(run, key: key, steps: 10...99)
                )
                // 20 points of 3,000: from the block summaries; 1,000 of 3,000: exact.
                for limit in [20, 1000] {
                    let history = try await store.downsampledHistory(run, key: key, steps: nil, maxPoints: limit)
                    answers.downsampled["\(name) \(limit)"] = ["\(history.totalPoints)"] + describe(history.points)
                }
            }
            let details = try #require(try await store.runDetails(run))
            answers.summaries["\(run)"] = details.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        }
        for (query, sort) in [
            ("metrics.loss.last < 1.5", nil), ("metrics.acc.count = 50", "-metrics.loss.min"),
            ("metrics.loss.max > 2", "metrics.acc.last"), ("", "metrics.loss.count"),
        ] as [(String, String?)] {
            var search = RunSearch(projectIDs: [project])
            search.query = query.isEmpty ? nil : try RunQuery(parsing: query)
            search.sort = try sort.map { try RunSort(parsing: $0) }
            answers.searches[query + " " + (sort ?? "")] = try await store.searchRuns(search).runs.map {
                "\($0.run.id)"
            }
        }
        answers.counts = "\(try await store.counts())"
        return answers
    }

    private static func describe(_ points: [MetricPoint]) -> [String] {
        points.map { "\($0.index) \($0.step ?? -1) \($0.timestamp.timeIntervalSince1970) \($0.value)" }
    }

    private static func columns(_ path: String, _ table: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map { $0["name"] as String }
        }
    }

    private static func rowCount(_ path: String, _ table: String) throws -> Int {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? -1 }
    }
}
