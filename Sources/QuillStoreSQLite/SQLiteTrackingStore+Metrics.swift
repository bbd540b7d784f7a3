import Foundation
import GRDB
package import QuillCore
package import QuillStore

extension SQLiteTrackingStore {
    // MARK: Logging

    package func logBatch(_ run: RunID, _ batch: LogBatch) async throws -> BatchResult {
        try await write { db in
            let id = run.rawValue
            guard
                let updatedAt = try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT updated_at FROM runs WHERE id = ?"),
                    arguments: [id]
                )
            else { throw Self.missing(run) }
            // First, before anything is written: a refused param change refuses the whole batch.
            let params = try Self.paramsToWrite(db, run: run, batch)
            var written = 0
            var ignored = 0
            if !batch.metrics.isEmpty {
                let insert = try RawStatement(
                    db,
                    sql: "INSERT OR IGNORE INTO metrics (series, idx, step, value, ts) VALUES (?, ?, ?, ?, ?)"
                )
                // Points grouped by key (``MetricIngest``): each key's statistics are read and written once per
                // batch and its points go into the B-trees in order, however the client interleaved the keys.
                let ingest = try MetricIngest.run(
                    batch.metrics,
                    run: run,
                    series: { key in try Self.makeSeries(db, run: id, key: key) },
                    stored: { key in try MetricStatsRecord.fetch(db, run: id, key: key)?.values ?? .init() },
                    insert: { point in
                        insert.bind(point.series, at: 1)
                        insert.bind(Int64(point.index), at: 2)
                        insert.bind(Int64(point.step), at: 3)
                        insert.bind(point.value, at: 4)
                        insert.bind(point.timestamp, at: 5)
                        try insert.run()
                        return insert.changes > 0
                    }
                )
                written = ingest.written
                ignored = ingest.ignored
                // In key order, like the points: the B-tree is walked once, front to back.
                for (key, values) in ingest.statistics.sorted(by: { $0.key < $1.key }) {
                    try MetricStatsRecord(runID: id, key: key, values: values).save(db)
                }
                try MetricBlock.add(db, ingest.blocks)
            }
            // Cached statements: preparing one costs more than running it, and a batch may hold thousands.
            if !params.isEmpty {
                let upsert = try db.cachedStatement(
                    sql:
                        "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value"
                )
                for (key, value) in params {
                    try upsert.execute(arguments: [id, key, JSONWriter.string(value)])
                }
            }
            // Removed tags first, then set ones: a key in both ends up set.
            if !batch.removedTags.isEmpty {
                let delete = try db.cachedStatement(sql: "DELETE FROM tags WHERE run_id = ? AND key = ?")
                for key in batch.removedTags { try delete.execute(arguments: [id, key]) }
            }
            if !batch.tags.isEmpty {
                let upsert = try db.cachedStatement(
                    sql:
                        "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value"
                )
                for (key, value) in batch.tags { try upsert.execute(arguments: [id, key, value]) }
            }
            if !batch.links.isEmpty {
                let insert = try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO links (run_id, label, url, created_at) VALUES (?, ?, ?, ?)"
                )
                for link in batch.links {
                    try insert.execute(arguments: [id, link.label, link.url, Timestamp.microseconds(link.timestamp)])
                }
            }
            if !batch.logs.isEmpty {
                let insert = try db.cachedStatement(
                    sql: "INSERT INTO logs (run_id, ts, level, message) VALUES (?, ?, ?, ?)"
                )
                for line in batch.logs {
                    try insert.execute(arguments: [
                        id, line.timestamp.map(Timestamp.microseconds), line.level?.rawValue, line.message,
                    ])
                }
            }
            // A run's `updated_at` moves at most once a second while only metrics arrive, so a stream of
            // small batches does not rewrite the run's row (a page of the write-ahead log) every time.
            let now = Self.now()
            if TrackingRules.touchesRun(batch, updatedAt: updatedAt, now: now) {
                try db.cachedStatement(sql: "UPDATE runs SET updated_at = ? WHERE id = ?").execute(arguments: [now, id])
            }
            if TrackingRules.changesSearchFields(batch, params: params) {
                try SearchIndex.refresh(db, runID: id)
            }
            return BatchResult(metricsWritten: written, metricsIgnored: ignored)
        }
    }

    /// The id of a run's metric in `metric_series` (see ``MetricSeriesSchema``), `nil` when the run has no
    /// point of that metric.
    static func series(_ db: Database, run: String, key: String) throws -> Int64? {
        let select = try db.cachedStatement(sql: "SELECT id FROM metric_series WHERE run_id = ? AND key = ?")
        return try Int64.fetchOne(select, arguments: [run, key])
    }

    /// The id of a run's metric in `metric_series`, added when the run has none yet (its first point follows
    /// in the same transaction).
    private static func makeSeries(_ db: Database, run: String, key: String) throws -> Int64 {
        if let id = try series(db, run: run, key: key) { return id }
        let insert = try db.cachedStatement(sql: "INSERT INTO metric_series (run_id, key) VALUES (?, ?)")
        try insert.execute(arguments: [run, key])
        return db.lastInsertedRowID
    }

    package func metricHistory(_ run: RunID, key: String, steps: ClosedRange<Int>?) async throws -> [MetricPoint] {
        try await read { db in
            guard try Self.runExists(db, run) else { throw Self.missing(run) }
            return try Self.history(db, run: run.rawValue, key: key, steps: steps)
        }
    }

    /// Without a step range, a history of more than `4 * maxPoints` points is downsampled from its block
    /// summaries (`metric_blocks`, see ``MetricBlock``) when it has at least as many blocks as buckets:
    /// consecutive blocks are grouped into `(maxPoints - 2) / 2` buckets and each bucket gives its minimum
    /// and maximum point; the first and last points are kept, as in ``MetricDownsampling/minMax(_:maxPoints:)``.
    /// Otherwise (a step range, or a short history) the points are read and downsampled exactly.
    package func downsampledHistory(
        _ run: RunID,
        key: String,
        steps: ClosedRange<Int>?,
        maxPoints: Int
    ) async throws -> DownsampledHistory {
        try await read { db in
            guard try Self.runExists(db, run) else { throw Self.missing(run) }
            let limit = max(4, maxPoints)
            if steps == nil, let fromBlocks = try Self.blockHistory(db, run: run.rawValue, key: key, limit: limit) {
                return fromBlocks
            }
            let points = try Self.history(db, run: run.rawValue, key: key, steps: steps)
            return DownsampledHistory(
                points: MetricDownsampling.minMax(points, maxPoints: limit),
                totalPoints: points.count
            )
        }
    }

    private static func history(
        _ db: Database,
        run: String,
        key: String,
        steps: ClosedRange<Int>?
    ) throws -> [MetricPoint] {
        guard let series = try Self.series(db, run: run, key: key) else { return [] }
        var sql = "SELECT idx, step, value, ts FROM metrics WHERE series = ?"
        if steps != nil { sql += " AND step BETWEEN ? AND ?" }
        sql += " ORDER BY idx"
        let statement = try RawStatement(db, sql: sql)
        statement.bind(series, at: 1)
        if let steps {
            statement.bind(Int64(steps.lowerBound), at: 2)
            statement.bind(Int64(steps.upperBound), at: 3)
        }
        var points: [MetricPoint] = []
        // The key's point count is an upper bound: one allocation instead of a growing array.
        points.reserveCapacity(try pointCount(db, run: run, key: key) ?? 0)
        while try statement.next() {
            points.append(
                MetricPoint(
                    index: Int(statement.int64(0)),
                    step: Int(statement.int64(1)),
                    timestamp: Timestamp.date(microseconds: statement.int64(3)),
                    value: statement.double(2) ?? .nan
                )
            )
        }
        return points
    }

    private static func pointCount(_ db: Database, run: String, key: String) throws -> Int? {
        try Int.fetchOne(
            db,
            sql: "SELECT count FROM metric_stats WHERE run_id = ? AND key = ?",
            arguments: [run, key]
        )
    }

    /// The downsampled history from block summaries, or `nil` when the exact path should answer.
    private static func blockHistory(_ db: Database, run: String, key: String, limit: Int) throws -> DownsampledHistory?
    {
        guard let total = try pointCount(db, run: run, key: key),
            MetricBlock.answersFromBlocks(total: total, limit: limit),
            let series = try Self.series(db, run: run, key: key)
        else { return nil }
        let buckets = MetricBlock.buckets(limit: limit)
        guard
            let blockCount = try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM metric_blocks WHERE series = ?",
                arguments: [series]
            ),
            blockCount >= buckets
        else { return nil }
        let statement = try RawStatement(
            db,
            sql: "SELECT \(MetricBlock.columns) FROM metric_blocks WHERE series = ? ORDER BY block"
        )
        statement.bind(series, at: 1)
        var blocks: [MetricBlock] = []
        blocks.reserveCapacity(blockCount)
        while try statement.next() { blocks.append(MetricBlock(statement)) }
        guard blocks.count >= buckets else { return nil }
        let kept = MetricBlock.downsampled(blocks, limit: limit)
        let lookup = try RawStatement(
            db,
            sql: "SELECT step, value, ts FROM metrics WHERE series = ? AND idx = ?"
        )
        lookup.bind(series, at: 1)
        var read: [Int: MetricPoint] = [:]
        for index in MetricBlock.indexesToRead(kept) {
            lookup.bind(Int64(index), at: 2)
            defer { lookup.reset() }
            guard try lookup.next() else { continue }
            read[index] = MetricPoint(
                index: index,
                step: Int(lookup.int64(0)),
                timestamp: Timestamp.date(microseconds: lookup.int64(2)),
                value: lookup.double(1) ?? .nan
            )
        }
        return DownsampledHistory(points: MetricBlock.points(kept, reading: read), totalPoints: total)
    }

    package func logLines(_ run: RunID, offset: Int, limit: Int) async throws -> (lines: [LogLine], total: Int) {
        try await read { db in
            guard try Self.runExists(db, run) else { throw Self.missing(run) }
            let mine = LogRecord.filter(LogRecord.Columns.runID == run.rawValue)
            let total = try mine.fetchCount(db)
            let lines = try mine.order(LogRecord.Columns.id)
                .limit(max(0, limit), offset: max(0, offset))
                .fetchAll(db)
                .map(\.line)
            return (lines, total)
        }
    }
}
