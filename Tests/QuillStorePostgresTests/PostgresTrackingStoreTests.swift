import Foundation
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillTesting
import Testing

@Suite("PostgreSQL tracking store")
struct PostgresTrackingStoreTests {
    @Test("conforms to the TrackingStore contract", arguments: TrackingStoreConformance.allCases)
    func conformance(check: TrackingStoreConformance) async throws {
        try await TestPostgres.withStore("tracking_\(check.rawValue)") { store in try await check.check(store) }
    }

    @Test("conforms to the ActivityStore contract", arguments: ActivityStoreConformance.allCases)
    func activityConformance(check: ActivityStoreConformance) async throws {
        try await TestPostgres.withStore("activity_\(check.rawValue)") { store in try await check.check(store) }
    }

    @Test("a 10,000-point batch sent three times leaves 10,000 points, blocks and statistics that match them")
    func resentBatch() async throws {
        try await TestPostgres.withStore("tracking_resent") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let run = try await store.createRun(NewRun(projectID: project.id))
            var batch = LogBatch()
            batch.metrics = (0..<10_000).map {
                MetricValue(key: $0 % 2 == 0 ? "loss" : "acc", value: Double($0), step: $0, index: $0 / 2)
            }
            #expect(try await store.logBatch(run.id, batch) == BatchResult(metricsWritten: 10_000, metricsIgnored: 0))
            for _ in 0..<2 {
                #expect(
                    try await store.logBatch(run.id, batch) == BatchResult(metricsWritten: 0, metricsIgnored: 10_000)
                )
            }
            #expect(try await store.counts().metricPoints == 10_000)
            let stored = try await Self.pointsAndBlocks(store)
            #expect(stored.0 == 10_000)
            #expect(stored.1 == 10_000, "every point is counted in one block")
            #expect(stored.2 == 2 * ((5_000 + 255) / 256), "two keys of 5,000 points: 20 blocks each")
            let details = try #require(try await store.runDetails(run.id))
            #expect(details.metrics["loss"]?.count == 5_000 && details.metrics["acc"]?.max == 9_999)
            // A re-sent batch that overlaps new points writes only the new ones, numbered as sent.
            batch.metrics = (9_990..<10_010).map { MetricValue(key: "loss", value: 1, step: $0, index: $0 / 2) }
            #expect(try await store.logBatch(run.id, batch) == BatchResult(metricsWritten: 5, metricsIgnored: 15))
            #expect(try await store.metricHistory(run.id, key: "loss", steps: nil).count == 5_005)
            // Batches that extend a key's last block merge into it: every point still counted once.
            for start in stride(from: 5_005, to: 6_000, by: 100) {
                batch.metrics = (start..<start + 100).map { MetricValue(key: "loss", value: 2, step: $0, index: $0) }
                _ = try await store.logBatch(run.id, batch)
            }
            let grown = try await Self.pointsAndBlocks(store)
            #expect(grown.0 == 11_005 && grown.1 == 11_005, "\(grown)")
            #expect(grown.2 == (5_000 + 255) / 256 + (6_005 + 255) / 256, "\(grown)")
        }
    }

    @Test("a batch refused for a param conflict leaves nothing of it: points, series, blocks, tags, logs, links")
    func refusedBatchLeavesNothing() async throws {
        try await TestPostgres.withStore("tracking_refused") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let run = try await store.createRun(NewRun(projectID: project.id))
            var first = LogBatch()
            first.params = ["lr": "0.1"]
            _ = try await store.logBatch(run.id, first)
            let before = try await Self.tableCounts(store)
            var refused = LogBatch()
            refused.paramChanges = .reject
            refused.params = ["lr": "0.2", "seed": "1"]
            refused.metrics = (0..<1_000).map { MetricValue(key: "new\($0 % 3)", value: Double($0), step: $0) }
            refused.tags = ["stage": "dev"]
            refused.logs = [LogLine(timestamp: nil, level: nil, message: "refused")]
            refused.links = [RunLink(label: "paper", url: "https://example.org")]
            do {
                _ = try await store.logBatch(run.id, refused)
                Issue.record("expected the batch to be refused")
            } catch let error as QuillError {
                #expect(error.code == .invalidArgument)
            }
            #expect(try await Self.tableCounts(store) == before)
            #expect(try await store.runDetails(run.id)?.params == ["lr": "0.1"])
        }
    }

    @Test("a run's batches sent at the same time from several connections are all written, numbered in turn")
    func concurrentBatches() async throws {
        try await TestPostgres.withStore("tracking_concurrent") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let run = try await store.createRun(NewRun(projectID: project.id))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        var batch = LogBatch()
                        batch.metrics = (0..<100).map { MetricValue(key: "loss", value: Double($0)) }
                        _ = try await store.logBatch(run.id, batch)
                    }
                }
                try await group.waitForAll()
            }
            let history = try await store.metricHistory(run.id, key: "loss", steps: nil)
            #expect(history.map(\.index) == Array(0..<600))
            #expect(history.map(\.step) == Array(0..<600))
        }
    }

    /// The points stored, the points the blocks count, and the blocks.
    private static func pointsAndBlocks(_ store: PostgresStore) async throws -> (Int64, Int64, Int64) {
        try await store.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT (SELECT coalesce(sum(count), 0)::bigint FROM metric_chunks), (SELECT coalesce(sum(count), 0)::bigint FROM metric_blocks),
                    (SELECT count(*) FROM metric_blocks)
                """,
                logger: Logger(label: "test")
            )
            var counts: (Int64, Int64, Int64) = (0, 0, 0)
            for try await row in rows.decode((Int64, Int64, Int64).self) { counts = row }
            return counts
        }
    }

    /// Rows of every table a batch writes.
    private static func tableCounts(_ store: PostgresStore) async throws -> [Int64] {
        try await store.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT (SELECT coalesce(sum(count), 0)::bigint FROM metric_chunks), (SELECT count(*) FROM metric_series),
                    (SELECT count(*) FROM metric_blocks), (SELECT count(*) FROM metric_stats),
                    (SELECT count(*) FROM params), (SELECT count(*) FROM tags), (SELECT count(*) FROM logs),
                    (SELECT count(*) FROM links)
                """,
                logger: Logger(label: "test")
            )
            var counts: [Int64] = []
            for try await row in rows.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self) {
                counts = [row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7]
            }
            return counts
        }
    }
}

@Suite("PostgreSQL ingest figures")
struct PostgresIngestFigures {
    @Test(
        "1,000,000 points in batches of 1,000 (QUILL_TEST_INGEST_FIGURES=1 prints the rate)",
        .enabled(if: IngestFigures.enabled)
    )
    func ingest() async throws {
        try await TestPostgres.withStore("ingest_figures") { store in
            let run = try await IngestFigures.measure(store, label: "PostgreSQL")
            #expect(try await store.counts().metricPoints == 1_000_000)
            #expect(try await store.metricHistory(run, key: "metric/0", steps: nil).count == 100_000)
        }
    }
}
