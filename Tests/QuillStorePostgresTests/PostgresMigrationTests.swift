import Foundation
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillTesting
import Testing

@testable import QuillStorePostgres

@Suite("PostgreSQL migrations")
struct PostgresMigrationTests {
    @Test("replicas starting at the same moment apply each migration once, and a second start applies none")
    func concurrentStarts() async throws {
        let location = try await TestPostgres.database("migrations")
        let stores = try (0..<4).map { _ in try PostgresStore(location: location, maximumConnections: 2) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in stores { group.addTask { try await store.run() } }
            // Every store is usable once its service has migrated; each answers the same identity.
            var identities = Set<String>()
            for store in stores { identities.insert(try await store.serverIDFromSchema()) }
            #expect(identities.count == 1)
            #expect(try await stores[0].migrate().isEmpty)
            let applied = try await stores[0].withConnection { connection in
                var names: [String] = []
                for try await name in try await connection.query(
                    "SELECT identifier FROM quill_migrations ORDER BY applied_at, identifier",
                    logger: Logger(label: "test")
                ).decode(String.self) {
                    names.append(name)
                }
                return names
            }
            #expect(applied.count == Set(applied).count)
            #expect(applied.count == PostgresStore.knownMigrationCount)
            group.cancelAll()
        }
    }

    @Test("a v5 database's metric points move into chunks, every point intact (NaN, infinities, extreme indexes)")
    func pointsMoveIntoChunks() async throws {
        let location = try await TestPostgres.database("migrate_chunks")
        let chunks = "v6: metric points stored in chunks"
        let largest = Int64(MetricBounds.largest)
        let specials: [Double] = [
            .nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -1e-300,
        ]
        // loss: 3,000 points (three chunks); acc: three points, two at the ends of the index and step ranges.
        let loss: [StoredPoint] = (0..<3_000).map { (index: Int) -> StoredPoint in
            let value: Double = index % 7 == 3 ? specials[index % specials.count] : Double(index) / 3
            return StoredPoint(
                index: Int64(index),
                step: Int64(index) * 3 - 4_000,
                value: value,
                time: 1_700_000_000_000_000 + Int64(index)
            )
        }
        let acc: [StoredPoint] = [
            StoredPoint(index: 0, step: -largest, value: .nan, time: 0),
            StoredPoint(index: 5, step: 0, value: .infinity, time: 1),
            StoredPoint(index: largest, step: largest, value: -.infinity, time: 2),
        ]
        let expected: [String: [StoredPoint]] = ["loss": loss, "acc": acc]
        // The schema as migrations v1 to v5 leave it, with points in `metrics` (NaN stored as NULL, as v5 did).
        try await TestPostgres.withConnection(location) { connection in
            try await connection.query(
                """
                CREATE TABLE quill_migrations (
                    identifier TEXT PRIMARY KEY NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """,
                logger: Self.logger
            )
            for migration in PostgresMigrations.all where migration.identifier != chunks {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.logger)
                }
                try await connection.query(
                    "INSERT INTO quill_migrations (identifier) VALUES (\(migration.identifier))",
                    logger: Self.logger
                )
            }
            try await connection.query(
                """
                INSERT INTO projects (id, namespace, slug, display_name, created_at) VALUES (1, 'ada', 'p', 'p', 0)
                """,
                logger: Self.logger
            )
            try await connection.query(
                """
                INSERT INTO runs (id, project_id, name, kind, status, created_at, updated_at, started_at)
                VALUES ('r1', 1, 'r', 'training', 'running', 0, 0, 0)
                """,
                logger: Self.logger
            )
            for (series, key) in [(Int64(1), "loss"), (Int64(2), "acc")] {
                let points = expected[key] ?? []
                try await connection.query(
                    "INSERT INTO metric_series (id, run_id, key) VALUES (\(series), 'r1', \(key))",
                    logger: Self.logger
                )
                try await connection.query(
                    """
                    INSERT INTO metrics (series, idx, step, value, ts)
                    SELECT \(series), i, s, nullif(v, 'NaN'::float8), t
                    FROM unnest(\(points.map(\.index))::bigint[], \(points.map(\.step))::bigint[],
                        \(points.map(\.value))::float8[], \(points.map(\.time))::bigint[]) AS p(i, s, v, t)
                    """,
                    logger: Self.logger
                )
            }
        }
        let store = try PostgresStore(location: location, maximumConnections: 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            #expect(try await store.migrate().isEmpty)
            #expect(try await store.recordedMigrations().last == chunks)
            let run = try #require(RunID("r1"))
            for key in ["loss", "acc"] {
                let history = try await store.metricHistory(run, key: key, steps: nil)
                let read = history.map {
                    StoredPoint(
                        index: Int64($0.index),
                        step: Int64($0.step ?? 0),
                        value: $0.value,
                        time: Timestamp.microseconds($0.timestamp)
                    )
                }
                #expect(read == expected[key], "\(key)")
            }
            let (tables, chunkCounts) = try await store.withConnection { connection in
                var tables: [Bool] = []
                for try await (points, chunks) in try await connection.query(
                    "SELECT to_regclass('metrics') IS NULL, to_regclass('metric_chunks') IS NOT NULL",
                    logger: Self.logger
                ).decode((Bool, Bool).self) {
                    tables = [points, chunks]
                }
                var counts: [Int64] = []
                for try await (chunks, points, largestChunk) in try await connection.query(
                    "SELECT count(*), sum(count)::bigint, max(count)::bigint FROM metric_chunks",
                    logger: Self.logger
                ).decode((Int64, Int64, Int64).self) {
                    counts = [chunks, points, largestChunk]
                }
                return (tables, counts)
            }
            #expect(tables == [true, true], "metrics gone, metric_chunks there")
            #expect(chunkCounts == [3 + 2, 3_003, 1_024])
            try await PostgresIngestTests.expectChunksWellFormed(store)
            // The store writes after them and the series' delete trigger deletes chunks.
            var batch = LogBatch()
            batch.metrics = (3_000..<3_010).map { MetricValue(key: "loss", value: 1, step: $0, index: $0) }
            #expect(try await store.logBatch(run, batch).metricsWritten == 10)
            #expect(try await store.metricHistory(run, key: "loss", steps: nil).count == 3_010)
            let tail = try await store.metricTail(run, key: "loss", after: 1_020, limit: 5)
            #expect(tail.points.map(\.index) == Array(1_021...1_025) && tail.lastIndex == 3_009)
            try await store.deleteRun(run)
            let left = try await store.withConnection { connection in
                var left: Int64 = -1
                for try await count in try await connection.query(
                    "SELECT count(*) FROM metric_chunks",
                    logger: Self.logger
                ).decode(Int64.self) {
                    left = count
                }
                return left
            }
            #expect(left == 0)
        }
    }

    /// A metric point as stored, NaN equal to NaN.
    struct StoredPoint: Equatable, CustomStringConvertible {
        var index: Int64
        var step: Int64
        var value: Double
        var time: Int64

        static func == (left: Self, right: Self) -> Bool {
            left.index == right.index && left.step == right.step && left.time == right.time
                && (left.value.isNaN ? right.value.isNaN : left.value == right.value)
        }

        var description: String { "(\(index), \(step), \(value), \(time))" }
    }

    static let logger = Logger(label: "test")

    @Test("a database that does not exist is one clear error, not a hang")
    func missingDatabase() async throws {
        let server = try TestPostgres.server()
        let store = try PostgresStore(
            location: server.with(database: "qt_missing_\(UInt32.random(in: 0...UInt32.max))")
        )
        await #expect(throws: QuillError.self) { try await store.run() }
        do {
            _ = try await store.migrate()
            Issue.record("expected an error")
        } catch let error as QuillError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("does not exist"), "\(error.message)")
        }
    }
}

extension PostgresStore {
    /// The server identity row, read directly (the tracking methods may not exist yet).
    fileprivate func serverIDFromSchema() async throws -> String {
        try await withConnection { connection in
            let rows = try await connection.query("SELECT id FROM server_identity", logger: Logger(label: "test"))
            var ids: [String] = []
            for try await id in rows.decode(String.self) { ids.append(id) }
            guard ids.count == 1, let id = ids.first else {
                throw QuillError(.io, "expected one identity row, got \(ids.count)")
            }
            return id
        }
    }
}
