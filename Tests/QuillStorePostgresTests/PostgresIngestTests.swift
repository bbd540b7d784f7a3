import Foundation
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillTesting
import Testing

/// The ingest path's storage on PostgreSQL (issue 15, ingest speed): what the protocols cannot show.
@Suite("PostgreSQL ingest storage")
struct PostgresIngestTests {
    @Test("deleting a run deletes its points and blocks (the series' delete trigger), and no other run's")
    func deletedRunTakesItsPoints() async throws {
        try await TestPostgres.withStore("ingest_delete") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let gone = try await store.createRun(NewRun(projectID: project.id))
            let kept = try await store.createRun(NewRun(projectID: project.id))
            var batch = LogBatch()
            batch.metrics = (0..<2_000).map { MetricValue(key: $0 % 2 == 0 ? "loss" : "acc", value: Double($0)) }
            _ = try await store.logBatch(gone.id, batch)
            _ = try await store.logBatch(kept.id, batch)
            #expect(try await Self.counts(store) == [4_000, 2 * 2 * 4, 4])
            try await store.deleteRun(gone.id)
            #expect(try await Self.counts(store) == [2_000, 2 * 4, 2], "points, blocks, series of the kept run")
            #expect(try await store.metricHistory(kept.id, key: "loss", steps: nil).count == 1_000)
        }
    }

    @Test("NaN values are stored as NULL, infinities as they are, and read back as sent")
    func nanIsNull() async throws {
        try await TestPostgres.withStore("ingest_nan") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let run = try await store.createRun(NewRun(projectID: project.id))
            let values: [Double] = [1, .nan, .infinity, -.infinity, .nan, -0.5]
            var batch = LogBatch()
            batch.metrics = values.map { MetricValue(key: "loss", value: $0) }
            #expect(try await store.logBatch(run.id, batch).metricsWritten == values.count)
            let stored = try await Self.row(
                store,
                """
                SELECT count(*) FILTER (WHERE value IS NULL), count(*) FILTER (WHERE value = 'NaN'),
                    count(*) FILTER (WHERE value IN ('Infinity', '-Infinity'))
                FROM metrics
                """
            )
            #expect(stored == [2, 0, 2], "NULL, NaN, infinite")
            let read = try await store.metricHistory(run.id, key: "loss", steps: nil).map(\.value)
            #expect(read.count == values.count)
            for (sent, back) in zip(values, read) {
                #expect(sent.isNaN ? back.isNaN : sent == back, "\(sent) read back as \(back)")
            }
            let statistics = try #require(try await store.runDetails(run.id)?.metrics["loss"])
            #expect(statistics.count == 6 && statistics.min == -.infinity && statistics.max == .infinity)
            #expect(statistics.last == -0.5)
        }
    }

    @Test("a batch of 200,000 points of 5 keys is written by one statement: points, statistics and blocks agree")
    func largeBatch() async throws {
        try await TestPostgres.withStore("ingest_large") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let run = try await store.createRun(NewRun(projectID: project.id))
            var batch = LogBatch()
            batch.metrics = (0..<200_000).map { MetricValue(key: "m\($0 % 5)", value: Double($0), step: $0 / 5) }
            #expect(try await store.logBatch(run.id, batch).metricsWritten == 200_000)
            #expect(try await Self.counts(store) == [200_000, 5 * ((40_000 + 255) / 256), 5])
            let blockPoints = try await Self.row(
                store,
                "SELECT 0, 0, coalesce(sum(count), 0)::bigint FROM metric_blocks"
            )
            #expect(blockPoints == [0, 0, 200_000])
            let details = try #require(try await store.runDetails(run.id))
            #expect(details.metrics["m4"]?.count == 40_000 && details.metrics["m4"]?.max == 199_999)
            #expect(details.metrics["m0"]?.last == 199_995 && details.metrics["m0"]?.lastStep == 39_999)
        }
    }

    @Test("an appending batch that meets a point its statistics did not foresee is written again, nothing doubled")
    func appendingBatchMeetsStoredPoint() async throws {
        try await TestPostgres.withStore("ingest_append_conflict") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let run = try await store.createRun(NewRun(projectID: project.id))
            var batch = LogBatch()
            batch.metrics = (0..<10).map { MetricValue(key: "loss", value: Double($0), step: $0, index: $0) }
            _ = try await store.logBatch(run.id, batch)
            // A point past the statistics' largest index, as a store filled by other means could hold.
            _ = try await Self.row(
                store,
                """
                WITH added AS (
                    INSERT INTO metrics (series, idx, step, value, ts)
                    SELECT id, 12, 12, 99, 0 FROM metric_series WHERE key = 'loss' RETURNING 1
                )
                SELECT count(*), 0, 0 FROM added
                """
            )
            batch.metrics = (10..<15).map { MetricValue(key: "loss", value: Double($0), step: $0, index: $0) }
            _ = try await store.logBatch(run.id, batch)
            let history = try await store.metricHistory(run.id, key: "loss", steps: nil)
            #expect(history.map(\.index) == Array(0..<15))
            #expect(history.first { $0.index == 12 }?.value == 99, "the stored point stays")
        }
    }

    /// Points, blocks and series stored.
    private static func counts(_ store: PostgresStore) async throws -> [Int64] {
        try await row(
            store,
            "SELECT (SELECT count(*) FROM metrics), (SELECT count(*) FROM metric_blocks), (SELECT count(*) FROM metric_series)"
        )
    }

    /// The one row of three numbers a query returns.
    private static func row(_ store: PostgresStore, _ sql: String) async throws -> [Int64] {
        try await store.withConnection { connection in
            var row: [Int64] = []
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test"))
            for try await (a, b, c) in rows.decode((Int64, Int64, Int64).self) { row = [a, b, c] }
            return row
        }
    }
}
