import Foundation
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillStoreSQLite
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
                SELECT count(*) FILTER (WHERE p.value IS NULL), count(*) FILTER (WHERE p.value = 'NaN'),
                    count(*) FILTER (WHERE p.value IN ('Infinity', '-Infinity'))
                FROM metric_chunks c CROSS JOIN LATERAL unnest(c.value) AS p(value)
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
            // 40,000 points of each key: 40 chunks of at most 1,024 each.
            #expect(try await Self.chunks(store) == [5 * 40, 200_000, 1_024])
            try await Self.expectChunksWellFormed(store)
            let history = try await store.metricHistory(run.id, key: "m3", steps: nil)
            #expect(history.map(\.index) == Array(0..<40_000))
            let values: [Double] = (0..<40_000).map { Double($0 * 5 + 3) }
            #expect(history.map(\.value) == values)
            #expect(history.map(\.step) == Array(0..<40_000))
        }
    }

    @Test("a batch of more than 1,024 points is several chunks; histories, step ranges and tails read across them")
    func pagesAcrossChunks() async throws {
        try await TestPostgres.withStore("ingest_chunk_pages") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let run = try await store.createRun(NewRun(projectID: project.id))
            let sent = Self.batch(of: "loss", from: 0, count: 2_500)
            #expect(try await store.logBatch(run.id, sent).metricsWritten == 2_500)
            #expect(try await Self.chunks(store) == [3, 2_500, 1_024])
            #expect(try await Self.chunkBounds(store) == [[0, 1_023], [1_024, 2_047], [2_048, 2_499]])
            try await Self.expectChunksWellFormed(store)
            let history = try await store.metricHistory(run.id, key: "loss", steps: nil)
            #expect(history.map(\.index) == Array(0..<2_500))
            #expect(history.map(\.value) == sent.metrics.map(\.value))
            let sentTimes: [Int64] = sent.metrics.map { Timestamp.microseconds($0.timestamp) }
            #expect(history.map { Timestamp.microseconds($0.timestamp) } == sentTimes)
            let range = try await store.metricHistory(run.id, key: "loss", steps: 1_000...2_100)
            #expect(range.map(\.index) == Array(1_000...2_100))
            // Pages of the tail across chunk boundaries, to the end.
            var after = -1
            var paged: [Int] = []
            while true {
                let page = try await store.metricTail(run.id, key: "loss", after: after, limit: 700)
                #expect(page.lastIndex == 2_499)
                guard let last = page.points.last?.index else { break }
                #expect(page.points.count == min(700, 2_499 - after))
                paged += page.points.map(\.index)
                after = last
            }
            #expect(paged == Array(0..<2_500))
            let crossing = try await store.metricTail(run.id, key: "loss", after: 1_020, limit: 10)
            #expect(crossing.points.map(\.index) == Array(1_021...1_030))
            #expect(crossing.points.map(\.step) == Array(1_021...1_030))
            // A downsampled history from the blocks reads single points out of the chunks.
            let downsampled = try await store.downsampledHistory(run.id, key: "loss", steps: nil, maxPoints: 16)
            #expect(downsampled.totalPoints == 2_500)
            for point in downsampled.points {
                #expect(point.value == 1 / Double(point.index + 1) && point.step == point.index, "\(point)")
            }
        }
    }

    @Test("re-sent and overlapping batches landing among stored chunks leave sorted, non-overlapping chunks")
    func overlappingBatchesRewriteChunks() async throws {
        try await TestPostgres.withStore("ingest_chunk_overlap") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let run = try await store.createRun(NewRun(projectID: project.id))
            _ = try await store.logBatch(run.id, Self.batch(of: "loss", from: 0, count: 100))
            _ = try await store.logBatch(run.id, Self.batch(of: "loss", from: 200, count: 100))
            _ = try await store.logBatch(run.id, Self.batch(of: "loss", from: 400, count: 100))
            #expect(try await Self.chunkBounds(store) == [[0, 99], [200, 299], [400, 499]])
            // Between two chunks, touching neither: a chunk of its own.
            #expect(try await store.logBatch(run.id, Self.batch(of: "loss", from: 120, count: 30)).metricsWritten == 30)
            #expect(try await Self.chunkBounds(store) == [[0, 99], [120, 149], [200, 299], [400, 499]])
            // Over the end of one chunk, a gap, two chunks and part of the next gap: the new points (100 to 349)
            // and the chunks among them are rewritten as one chunk; the chunk before them stays.
            let overlapping = try await store.logBatch(run.id, Self.batch(of: "loss", from: 50, count: 300))
            #expect(overlapping.metricsWritten == 300 - 50 - 30 - 100)
            #expect(overlapping.metricsIgnored == 50 + 30 + 100)
            #expect(try await Self.chunkBounds(store) == [[0, 99], [100, 349], [400, 499]])
            // Sent again whole: only the gap's points are new, a chunk between two.
            let again = try await store.logBatch(run.id, Self.batch(of: "loss", from: 0, count: 500))
            #expect(again.metricsWritten == 50 && again.metricsIgnored == 450)
            #expect(try await Self.chunkBounds(store) == [[0, 99], [100, 349], [350, 399], [400, 499]])
            try await Self.expectChunksWellFormed(store)
            #expect(try await Self.chunks(store) == [4, 500, 250])
            let history = try await store.metricHistory(run.id, key: "loss", steps: nil)
            #expect(history.map(\.index) == Array(0..<500))
            let sentValues: [Double] = (0..<500).map { 1 / Double($0 + 1) }
            #expect(history.map(\.value) == sentValues)
            // Inside a chunk whose indexes have holes: the chunk is rewritten with the new points in order.
            var sparse = LogBatch()
            sparse.metrics = stride(from: 0, to: 200, by: 2).map {
                MetricValue(key: "acc", value: Double($0), step: $0, index: $0)
            }
            _ = try await store.logBatch(run.id, sparse)
            sparse.metrics = stride(from: 1, to: 50, by: 2).map {
                MetricValue(key: "acc", value: Double($0), step: $0, index: $0)
            }
            #expect(try await store.logBatch(run.id, sparse).metricsWritten == 25)
            #expect(try await Self.chunkBounds(store).last == [0, 198])
            #expect(try await Self.chunks(store) == [5, 625, 250])
            try await Self.expectChunksWellFormed(store)
            let acc = try await store.metricHistory(run.id, key: "acc", steps: nil)
            let accIndexes: [Int] = Array(stride(from: 0, to: 200, by: 2)) + Array(stride(from: 1, to: 50, by: 2))
            #expect(acc.map(\.index) == accIndexes.sorted())
            #expect(acc.allSatisfy { $0.value == Double($0.index) && $0.step == $0.index })
            try await Self.expectSummariesMatchPoints(store, run: run.id, keys: ["loss", "acc"])
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
                    INSERT INTO metric_chunks (series, first_idx, last_idx, min_step, max_step, count, idx, step,
                        value, ts)
                    SELECT id, 12, 12, 12, 12, 1, '{12}', '{12}', '{99}', '{0}' FROM metric_series WHERE key = 'loss'
                    RETURNING 1
                )
                SELECT count(*), 0, 0 FROM added
                """
            )
            batch.metrics = (10..<15).map { MetricValue(key: "loss", value: Double($0), step: $0, index: $0) }
            _ = try await store.logBatch(run.id, batch)
            let history = try await store.metricHistory(run.id, key: "loss", steps: nil)
            #expect(history.map(\.index) == Array(0..<15))
            #expect(history.first { $0.index == 12 }?.value == 99, "the stored point stays")
            try await Self.expectChunksWellFormed(store)
        }
    }

    // MARK: One statement per batch (migration "v5", `quill_write_metrics`)

    @Test("batches of new points after the first are one statement; a re-sent batch is ignored, nothing doubled")
    func oneStatementAndResent() async throws {
        try await TestPostgres.withStore("ingest_one_statement") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let run = try await store.createRun(NewRun(projectID: project.id))
            let batches = (0..<4).map { Self.batch(of: "loss", from: $0 * 1_000, count: 1_000) }
            for batch in batches { #expect(try await store.logBatch(run.id, batch).metricsWritten == 1_000) }
            #expect(store.oneStatementBatches == OneStatementBatches(written: 3), "the first batch reads the run")
            let before = try await Self.counts(store)
            let again = try await store.logBatch(run.id, batches[2])
            #expect(again.metricsWritten == 0 && again.metricsIgnored == 1_000)
            #expect(try await Self.counts(store) == before)
            #expect(before == [4_000, (4_000 + 255) / 256, 1])
            // The re-sent batch took the transactional path (its indexes are not new); the next one is one
            // statement again.
            _ = try await store.logBatch(run.id, Self.batch(of: "loss", from: 4_000, count: 10))
            #expect(store.oneStatementBatches == OneStatementBatches(written: 4))
            let history = try await store.metricHistory(run.id, key: "loss", steps: nil)
            #expect(history.map(\.index) == Array(0..<4_010))
            try await Self.expectSummariesMatchPoints(store, run: run.id, keys: ["loss"])
            try await Self.expectChunksWellFormed(store)
        }
    }

    @Test("a refused batch on the one-statement path leaves nothing: out of steps, run deleted, stored point")
    func refusedBatchLeavesNothing() async throws {
        try await TestPostgres.withStore("ingest_refused") { store in
            let project = try await store.project(namespace: "ada", displayName: "p")
            let run = try await store.createRun(NewRun(projectID: project.id))
            var batch = LogBatch()
            batch.metrics = [MetricValue(key: "loss", value: 1, step: MetricBounds.largest, index: 0)]
            _ = try await store.logBatch(run.id, batch)
            let before = try await Self.counts(store)
            let statistics = try await store.runDetails(run.id)?.metrics
            // A point with its step, then one without: no step is left after the largest; the first point
            // must not stay either.
            batch.metrics = [
                MetricValue(key: "loss", value: 2, step: 5, index: 1),
                MetricValue(key: "loss", value: 3, index: 2),
            ]
            await #expect(throws: QuillError.self) { try await store.logBatch(run.id, batch) }
            #expect(try await Self.counts(store) == before)
            #expect(try await store.runDetails(run.id)?.metrics == statistics)
            // A run deleted after its last batch: the statement finds it gone and writes nothing.
            let gone = try await store.createRun(NewRun(projectID: project.id))
            _ = try await store.logBatch(gone.id, Self.batch(of: "loss", from: 0, count: 10))
            let withGone = try await Self.counts(store)
            try await store.deleteRun(gone.id)
            let error = await #expect(throws: QuillError.self) {
                try await store.logBatch(gone.id, Self.batch(of: "loss", from: 10, count: 10))
            }
            #expect(error?.code == .notFound)
            #expect(try await Self.counts(store) == [withGone[0] - 10, withGone[1] - 1, withGone[2] - 1])
            #expect(store.oneStatementBatches.turnedDown == 1)
        }
    }

    @Test(
        "the same batches leave the same points, statistics and downsampled histories as on SQLite",
        arguments: [false, true]
    )
    func sameAsSQLite(twoReplicas: Bool) async throws {
        let plan = Self.mixedBatches()
        let temporary = TemporaryDirectory("quill-ingest-sqlite")
        let sqlite = try SQLiteTrackingStore(path: temporary.file("quill.db"))
        let sqliteRun = try await sqlite.createRun(
            NewRun(projectID: try await sqlite.project(namespace: "ada", displayName: "p").id)
        )
        var expected: [BatchOutcome] = []
        for (_, batch) in plan { expected.append(BatchOutcome(try await Self.logged(sqlite, sqliteRun.id, batch))) }
        let keys = Set(plan.flatMap { $0.1.metrics.map(\.key) }).sorted()
        let sqliteView = try await Self.view(sqlite, run: sqliteRun.id, keys: keys)

        try await TestPostgres.withStore("ingest_same_as_sqlite") { store in
            try await Self.withReplica(of: store) { replica in
                let run = try await store.createRun(
                    NewRun(projectID: try await store.project(namespace: "ada", displayName: "p").id)
                )
                var outcomes: [BatchOutcome] = []
                for (onReplica, batch) in plan {
                    let target = twoReplicas && onReplica ? replica : store
                    outcomes.append(BatchOutcome(try await Self.logged(target, run.id, batch)))
                }
                #expect(outcomes == expected)
                let view = try await Self.view(store, run: run.id, keys: keys)
                #expect(view.count == sqliteView.count)
                for (line, expected) in zip(view, sqliteView) where line != expected {
                    Issue.record("differs from SQLite: \(Self.firstDifference(line, expected))")
                }
                try await Self.expectSummariesMatchPoints(store, run: run.id, keys: keys)
                try await Self.expectChunksWellFormed(store)
                #expect(store.oneStatementBatches.written >= 3, "\(store.oneStatementBatches)")
                if twoReplicas {
                    #expect(store.oneStatementBatches.turnedDown >= 1, "the replica's batches changed the run")
                }
            }
        }
    }

    /// A batch's outcome, or the code of the error that refused it.
    private struct BatchOutcome: Equatable {
        var result: BatchResult?
        var refused: QuillError.Code?
        init(_ outcome: Result<BatchResult, QuillError>) {
            switch outcome {
            case .success(let result): self.result = result
            case .failure(let error): refused = error.code
            }
        }
    }

    private static func logged(
        _ store: some TrackingStore,
        _ run: RunID,
        _ batch: LogBatch
    ) async throws -> Result<BatchResult, QuillError> {
        do {
            return .success(try await store.logBatch(run, batch))
        } catch let error as QuillError {
            return .failure(error)
        }
    }

    /// Batches of every kind, in order, each marked whether the second replica sends it (when there is one):
    /// appends across block boundaries, a re-sent batch, points without index or step, an overlapping batch,
    /// extreme steps and values (`Int64` bounds, NaN, ±infinity, -0.0, the smallest and largest doubles), a new key, a batch with a tag.
    private static func mixedBatches() -> [(Bool, LogBatch)] {
        let time = Date(timeIntervalSince1970: 1_700_000_000)
        func values(_ key: String, _ indexes: Range<Int>, step: (Int) -> Int? = { $0 }) -> [MetricValue] {
            indexes.map { index in
                // -0.0 included: both stores keep it as 0.0 (PostgreSQL used to keep the sign).
                let special: [Double] = [
                    .nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -0.0,
                ]
                let value = index % 7 == 3 ? special[index % special.count] : Double(index % 97) / 3
                return MetricValue(
                    key: key,
                    value: value,
                    step: step(index),
                    timestamp: time.addingTimeInterval(Double(index % 10_000)),
                    index: index
                )
            }
        }
        func batch(_ metrics: [MetricValue], tag: Bool = false) -> LogBatch {
            var batch = LogBatch()
            batch.metrics = metrics
            if tag { batch.tags = ["phase": "two"] }
            return batch
        }
        let resent = batch(values("loss", 600..<1_200) + values("acc", 300..<700))
        var unnumbered = LogBatch()
        unnumbered.metrics = (0..<300).map { i in
            MetricValue(key: i % 2 == 0 ? "loss" : "acc", value: Double(i) - 150, timestamp: time)
        }
        return [
            (false, batch(values("loss", 0..<600) + values("acc", 0..<300))),
            (false, resent),
            (false, resent),
            (false, unnumbered),
            (true, batch(values("loss", 2_000..<2_100))),
            (false, batch(values("loss", 2_100..<2_300))),
            (false, batch(values("loss", 2_250..<2_400) + values("acc", 100..<200))),
            (false, batch(values("loss", 2_400..<2_500, step: { $0 % 2 == 0 ? Int(Int64.min) : Int(Int64.max) }))),
            (true, batch(values("loss", 2_500..<2_600))),
            (true, batch(values("loss", 2_600..<2_700))),
            (false, batch(values("loss", 2_700..<2_800) + values("lr", 0..<10))),
            (false, batch(values("loss", 2_800..<2_900), tag: true)),
            (false, batch(values("loss", 2_900..<3_000))),
            (false, batch(values("loss", MetricBounds.largest - 2..<MetricBounds.largest + 1))),
            (false, batch([MetricValue(key: "loss", value: 1, timestamp: time)])),
            (false, batch(values("acc", 5_000..<5_300, step: { _ in nil }))),
        ]
    }

    /// What the protocols show of a run's metrics, as text (NaN equals NaN): each key's points, the statistics,
    /// and downsampled histories, which long metrics answer from the blocks.
    private static func view(_ store: some TrackingStore, run: RunID, keys: [String]) async throws -> [String] {
        var lines: [String] = []
        for key in keys {
            lines.append("\(key): \(try await store.metricHistory(run, key: key, steps: nil))")
            for limit in [16, 100] {
                let history = try await store.downsampledHistory(run, key: key, steps: nil, maxPoints: limit)
                lines.append("\(key) downsampled to \(limit): \(history)")
            }
        }
        let statistics = try await store.runDetails(run)?.metrics ?? [:]
        for key in keys { lines.append("\(key) statistics: \(String(describing: statistics[key]))") }
        return lines
    }

    /// Where two lines of ``view(_:run:keys:)`` first differ, with some text around it.
    private static func firstDifference(_ line: String, _ expected: String) -> String {
        let common = zip(line, expected).prefix { $0 == $1 }.count
        let start = max(0, common - 80)
        return "\(line.prefix(40)) … PostgreSQL: \(line.dropFirst(start).prefix(200)) … SQLite: "
            + "\(expected.dropFirst(start).prefix(200))"
    }

    /// Each key's stored statistics and block summaries are what its stored points give when summed up from
    /// scratch (``MetricSeriesStatistics``, ``MetricBlock``): the batches' merges lost nothing.
    private static func expectSummariesMatchPoints(_ store: PostgresStore, run: RunID, keys: [String]) async throws {
        for key in keys {
            let points = try await store.metricHistory(run, key: key, steps: nil)
            var statistics = MetricSeriesStatistics()
            var blocks: [Int: MetricBlock] = [:]
            for point in points {
                let step = try #require(point.step)
                statistics.add(index: point.index, step: step, value: point.value)
                blocks[MetricBlock.number(of: point.index), default: MetricBlock()].add(
                    index: point.index,
                    step: step,
                    value: point.value.isNaN ? nil : point.value,
                    timestamp: Timestamp.microseconds(point.timestamp)
                )
            }
            let storedStatistics = try await store.runDetails(run)?.metrics[key]
            #expect(String(describing: storedStatistics) == String(describing: Optional(statistics.statistics)))
            let stored = try await storedBlocks(store, run: run, key: key)
            #expect(stored.keys.sorted() == blocks.keys.sorted(), "\(key): blocks")
            for (number, block) in blocks {
                #expect(String(describing: stored[number]) == String(describing: Optional(block)), "\(key): \(number)")
            }
        }
    }

    /// A key's stored block summaries, by block.
    private static func storedBlocks(_ store: PostgresStore, run: RunID, key: String) async throws -> [Int: MetricBlock]
    {
        try await store.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT b.block, b.count, b.min_idx, b.min_step, b.min_value, b.min_ts, b.max_idx, b.max_step,
                    b.max_value, b.max_ts, b.first_idx, b.last_idx
                FROM metric_blocks b JOIN metric_series s ON s.id = b.series
                WHERE s.run_id = \(run.rawValue) AND s.key = \(key)
                """,
                logger: Logger(label: "test")
            )
            var blocks: [Int: MetricBlock] = [:]
            for try await row in rows.decode(
                (Int64, Int64, Int64?, Int64?, Double?, Int64?, Int64?, Int64?, Double?, Int64?, Int64, Int64).self
            ) {
                func point(_ index: Int64?, _ step: Int64?, _ value: Double?, _ time: Int64?) -> MetricBlock.Point? {
                    guard let index, let step, let value, let time else { return nil }
                    return MetricBlock.Point(index: Int(index), step: Int(step), value: value, timestamp: time)
                }
                blocks[Int(row.0)] = MetricBlock(
                    count: Int(row.1),
                    minimum: point(row.2, row.3, row.4, row.5),
                    maximum: point(row.6, row.7, row.8, row.9),
                    firstIndex: Int(row.10),
                    lastIndex: Int(row.11)
                )
            }
            return blocks
        }
    }

    /// `count` points of `key` from index `from`, with their indexes and steps.
    private static func batch(of key: String, from: Int, count: Int) -> LogBatch {
        var batch = LogBatch()
        batch.metrics = (from..<from + count).map {
            MetricValue(key: key, value: 1 / Double($0 + 1), step: $0, index: $0)
        }
        return batch
    }

    /// A second store on `store`'s database (another replica), running for the duration of `body`.
    private static func withReplica<Result: Sendable>(
        of store: PostgresStore,
        _ body: (PostgresStore) async throws -> Result
    ) async throws -> Result {
        let replica = try PostgresStore(location: store.location, maximumConnections: 2)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await replica.run() }
            defer { group.cancelAll() }
            return try await body(replica)
        }
    }

    /// Points, blocks and series stored.
    private static func counts(_ store: PostgresStore) async throws -> [Int64] {
        try await row(
            store,
            """
            SELECT (SELECT coalesce(sum(count), 0)::bigint FROM metric_chunks), (SELECT count(*) FROM metric_blocks),
                (SELECT count(*) FROM metric_series)
            """
        )
    }

    /// Chunks stored, the points they hold, and the most points one holds.
    private static func chunks(_ store: PostgresStore) async throws -> [Int64] {
        try await row(
            store,
            "SELECT count(*), coalesce(sum(count), 0)::bigint, coalesce(max(count), 0)::bigint FROM metric_chunks"
        )
    }

    /// Every chunk's first and last index, in order (one series).
    private static func chunkBounds(_ store: PostgresStore) async throws -> [[Int64]] {
        try await store.withConnection { connection in
            var bounds: [[Int64]] = []
            let rows = try await connection.query(
                "SELECT first_idx, last_idx FROM metric_chunks ORDER BY series, first_idx",
                logger: Logger(label: "test")
            )
            for try await (first, last) in rows.decode((Int64, Int64).self) { bounds.append([first, last]) }
            return bounds
        }
    }

    /// The chunks' invariants, checked with SQL over `metric_chunks`: no two chunks of a series overlap; each
    /// chunk's arrays are `count` long, sorted by index without a repeat, and agree with its bounds.
    static func expectChunksWellFormed(_ store: PostgresStore) async throws {
        let overlapping = try await row(
            store,
            """
            SELECT count(*), 0, 0 FROM metric_chunks a JOIN metric_chunks b
                ON a.series = b.series AND a.first_idx < b.first_idx AND a.last_idx >= b.first_idx
            """
        )
        #expect(overlapping == [0, 0, 0], "overlapping chunks")
        let malformed = try await row(
            store,
            """
            SELECT count(*), 0, 0 FROM metric_chunks c
            WHERE cardinality(c.idx) <> c.count OR cardinality(c.step) <> c.count OR cardinality(c.value) <> c.count
                OR cardinality(c.ts) <> c.count OR c.count < 1 OR c.count > 1024
                OR c.idx[1] <> c.first_idx OR c.idx[c.count] <> c.last_idx
                OR c.idx <> ARRAY(SELECT DISTINCT i FROM unnest(c.idx) AS u(i) ORDER BY i)
                OR c.min_step <> (SELECT min(s) FROM unnest(c.step) AS u(s))
                OR c.max_step <> (SELECT max(s) FROM unnest(c.step) AS u(s))
            """
        )
        #expect(malformed == [0, 0, 0], "malformed chunks")
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
