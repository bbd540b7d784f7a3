import Foundation
import GRDB
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

/// The `metric_blocks` summaries: kept right by every batch, backfilled by their migration, deleted with
/// their run, and used for long downsampled histories.
@Suite("SQLite metric blocks")
struct MetricBlockTests {
    @Test("blocks match the points after re-sends and batches that share blocks, in any order")
    func blocksFollowBatches() async throws {
        let temp = TemporaryDirectory("quill-blocks")
        let path = temp.file("quill.db")
        let store = try SQLiteTrackingStore(path: path)
        let project = try await store.project(namespace: "ada", displayName: "p")
        let run = try await store.createRun(NewRun(projectID: project.id)).id
        try await Self.logShared(store, run)
        // A re-sent batch with other values is ignored and must leave the blocks as they are.
        let before = try Self.blockRows(path)
        var resend = LogBatch()
        resend.metrics = (0..<3000).map { MetricValue(key: "loss", value: 1e12, step: $0, index: $0) }
        #expect(try await store.logBatch(run, resend).metricsIgnored == 3000)
        #expect(try Self.blockRows(path) == before)
        try Self.expectBlocksMatchPoints(path)
        // Points without an index are numbered after the last and land in the last block.
        try await store.logMetric(run, MetricValue(key: "loss", value: -5))
        try Self.expectBlocksMatchPoints(path)

        let all = try await store.metricHistory(run, key: "loss", steps: nil)
        #expect(all.count == 3001)
        let history = try await store.downsampledHistory(run, key: "loss", steps: nil, maxPoints: 20)
        #expect(history.totalPoints == 3001)
        let expected = Self.fromBlocks(all, maxPoints: 20)
        #expect(history.points.count == expected.count)
        #expect(zip(history.points, expected).allSatisfy(Self.same))
        #expect(history.points.contains { $0.value == -5 })
        #expect(!history.points.contains { $0.value == 1e12 })
    }

    @Test("the migration backfills blocks from the points already stored")
    func backfill() async throws {
        let temp = TemporaryDirectory("quill-blocks")
        let current = temp.file("current.db")
        let path = temp.file("quill.db")
        let stored: [[DatabaseValue]]
        do {
            let store = try SQLiteTrackingStore(path: current)
            let project = try await store.project(namespace: "ada", displayName: "p")
            try await Self.logShared(store, try await store.createRun(NewRun(projectID: project.id)).id)
            stored = try Self.blockRows(current)
        }
        // The points in a database of the v11 schema (keyed by run id and key), without their blocks, and the
        // migration that made them not applied yet: opening it runs that migration, then v12.
        try OlderDatabase.copy(
            current,
            to: path,
            migratedUpTo: "v11: the query language's parent field in the search index"
        )
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "DROP TABLE metric_blocks")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v5: metric blocks'")
        }
        try queue.close()
        _ = try SQLiteTrackingStore(path: path)
        #expect(stored.count > 10)
        #expect(try Self.blockRows(path) == stored)
        try Self.expectBlocksMatchPoints(path)
    }

    @Test("deleting a run deletes its blocks")
    func cascade() async throws {
        let temp = TemporaryDirectory("quill-blocks")
        let path = temp.file("quill.db")
        let store = try SQLiteTrackingStore(path: path)
        let project = try await store.project(namespace: "ada", displayName: "p")
        let doomed = try await store.createRun(NewRun(projectID: project.id)).id
        let kept = try await store.createRun(NewRun(projectID: project.id)).id
        try await Self.logShared(store, doomed)
        try await Self.logShared(store, kept)
        try await store.deleteRun(doomed)
        #expect(try Self.blockCount(path, doomed) == 0)
        #expect(try Self.blockCount(path, kept) > 0)
        try Self.expectBlocksMatchPoints(path)
    }

    // MARK: Helpers

    /// 3,000 points of `loss` (and some of `acc`) in batches of 100 that share blocks, half of them sent in
    /// reverse index order, with ties, NaN values and a NaN-only stretch.
    private static func logShared(_ store: SQLiteTrackingStore, _ run: RunID) async throws {
        func value(_ index: Int) -> Double {
            if (1024..<1536).contains(index) || index % 97 == 0 { return .nan }
            return Double(index % 7)
        }
        for start in stride(from: 0, to: 3000, by: 100) {
            var batch = LogBatch()
            var indexes = Array(start..<start + 100)
            if start % 200 == 0 { indexes.reverse() }
            batch.metrics = indexes.map { MetricValue(key: "loss", value: value($0), step: $0, index: $0) }
            batch.metrics += (0..<10).map {
                MetricValue(key: "acc", value: Double($0), step: start + $0, index: start + $0)
            }
            _ = try await store.logBatch(run, batch)
        }
    }

    private static func blockCount(_ path: String, _ run: RunID) throws -> Int {
        try DatabaseQueue(path: path).read { db in
            try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM \(blocks) WHERE run_id = ?",
                arguments: [run.rawValue]
            ) ?? 0
        }
    }

    private static func blockRows(_ path: String) throws -> [[DatabaseValue]] {
        // Every column but the series id, which the migration may number differently.
        let stored = """
            count, min_idx, min_step, min_value, min_ts, max_idx, max_step, max_value, max_ts, first_idx, last_idx
            """
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT run_id, key, block, \(stored) FROM \(blocks) ORDER BY run_id, key, block")
                .map {
                    Array($0.databaseValues)
                }
        }
    }

    /// `metric_blocks` and `metrics` with each row's run id and key (from `metric_series`), as subqueries.
    private static let blocks =
        "(SELECT s.run_id, s.key, b.* FROM metric_blocks b JOIN metric_series s ON s.id = b.series)"
    private static let points = "(SELECT s.run_id, s.key, m.* FROM metrics m JOIN metric_series s ON s.id = m.series)"

    /// Every stored block row is the summary of its points, recomputed in SQL.
    private static func expectBlocksMatchPoints(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.read { db in
            // No point or block outlives its series (deleted with their run by the trigger of migration v12).
            let orphans = try Int.fetchOne(
                db,
                sql: """
                    SELECT (SELECT count(*) FROM metrics WHERE series NOT IN (SELECT id FROM metric_series))
                         + (SELECT count(*) FROM metric_blocks WHERE series NOT IN (SELECT id FROM metric_series))
                    """
            )
            #expect(orphans == 0)
            let columns = "run_id, key, block, count, first_idx, last_idx, min_idx, max_idx"
            let stored = try Row.fetchAll(db, sql: "SELECT \(columns) FROM \(blocks) ORDER BY run_id, key, block")
            let expected = try Row.fetchAll(
                db,
                sql: """
                    WITH b AS (
                        SELECT run_id, key, idx / 256 AS block, count(*) AS count, min(idx) AS first_idx,
                               max(idx) AS last_idx
                        FROM \(points) GROUP BY run_id, key, idx / 256
                    )
                    SELECT run_id, key, block, count, first_idx, last_idx,
                        (SELECT idx FROM \(points) m WHERE m.run_id = b.run_id AND m.key = b.key AND m.idx / 256 = b.block
                            AND m.value IS NOT NULL ORDER BY m.value, m.idx LIMIT 1) AS min_idx,
                        (SELECT idx FROM \(points) m WHERE m.run_id = b.run_id AND m.key = b.key AND m.idx / 256 = b.block
                            AND m.value IS NOT NULL ORDER BY m.value DESC, m.idx LIMIT 1) AS max_idx
                    FROM b ORDER BY run_id, key, block
                    """
            )
            #expect(stored.map { Array($0.databaseValues) } == expected.map { Array($0.databaseValues) })
            for side in ["min", "max"] {
                let wrong = try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM \(blocks) b WHERE \(side)_idx IS NOT NULL AND NOT EXISTS (
                            SELECT 1 FROM \(points) m WHERE m.run_id = b.run_id AND m.key = b.key AND m.idx = b.\(side)_idx
                                AND m.step = b.\(side)_step AND m.value = b.\(side)_value AND m.ts = b.\(side)_ts)
                        """
                )
                #expect(wrong == 0)
            }
        }
    }

    /// What the block path must return: blocks of 256 indexes grouped into `(maxPoints - 2) / 2` buckets,
    /// each giving its first smallest and first largest non-NaN point (its first point when all are NaN),
    /// plus the first and last points.
    private static func fromBlocks(_ all: [MetricPoint], maxPoints: Int) -> [MetricPoint] {
        let blocks = Dictionary(grouping: all) { $0.index / 256 }.sorted { $0.key < $1.key }.map(\.value)
        let buckets = (maxPoints - 2) / 2
        var result = [all[0]]
        func keep(_ point: MetricPoint) {
            if point.index > result[result.count - 1].index { result.append(point) }
        }
        for bucket in 0..<buckets {
            let points = blocks[bucket * blocks.count / buckets..<(bucket + 1) * blocks.count / buckets].joined()
                .sorted { $0.index < $1.index }
            guard !points.isEmpty else { continue }
            let values = points.filter { !$0.value.isNaN }
            guard var low = values.first, var high = values.first else {
                keep(points[0])
                continue
            }
            for point in values {
                if point.value < low.value { low = point }
                if point.value > high.value { high = point }
            }
            for point in [low, high].sorted(by: { $0.index < $1.index }) { keep(point) }
        }
        keep(all[all.count - 1])
        return result
    }

    private static func same(_ left: MetricPoint, _ right: MetricPoint) -> Bool {
        left.index == right.index && left.step == right.step && left.timestamp == right.timestamp
            && (left.value == right.value || (left.value.isNaN && right.value.isNaN))
    }
}
