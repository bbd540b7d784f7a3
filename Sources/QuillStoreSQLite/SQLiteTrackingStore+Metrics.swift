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
                var stats: [String: MetricStatsRecord] = [:]
                let insert = try RawStatement(
                    db,
                    sql: "INSERT OR IGNORE INTO metrics (series, idx, step, value, ts) VALUES (?, ?, ?, ?, ?)"
                )
                // Points grouped by key: each key's statistics are read and written once per batch and its
                // points go into the B-trees in order, however the client interleaved the keys.
                var currentKey: String?
                var current = MetricStatsRecord(runID: id, key: "")
                var series: Int64 = 0
                // The new points' block summaries, gathered in memory and merged into `metric_blocks` once
                // per touched block; points usually come in index order, so one block is open at a time.
                var blocks: [MetricBlock.Key: MetricBlock] = [:]
                var openBlock: MetricBlock.Key?
                var open = MetricBlock()
                for metric in Self.groupedByKey(batch.metrics) {
                    if metric.key != currentKey {
                        if let currentKey { stats[currentKey] = current }
                        if let known = stats[metric.key] {
                            current = known
                        } else {
                            current =
                                try MetricStatsRecord.fetch(db, run: id, key: metric.key)
                                ?? MetricStatsRecord(runID: id, key: metric.key)
                        }
                        currentKey = metric.key
                        series = try Self.makeSeries(db, run: id, key: metric.key)
                        insert.bind(series, at: 1)
                        if let openBlock { blocks[openBlock, default: MetricBlock()].merge(open) }
                        openBlock = nil
                    }
                    let index = try metric.index ?? Self.next(after: current.lastIndex, "idx", metric.key, run)
                    let step = try metric.step ?? Self.next(after: current.maxStep, "step", metric.key, run)
                    let value = metric.value.isNaN ? nil : metric.value
                    let timestamp = Timestamp.microseconds(metric.timestamp)
                    insert.bind(Int64(index), at: 2)
                    insert.bind(Int64(step), at: 3)
                    insert.bind(value, at: 4)
                    insert.bind(timestamp, at: 5)
                    try insert.run()
                    guard insert.changes > 0 else {
                        ignored += 1
                        continue
                    }
                    written += 1
                    current.add(index: index, step: step, value: metric.value)
                    let block = MetricBlock.number(of: index)
                    if openBlock?.block != block {
                        if let openBlock { blocks[openBlock, default: MetricBlock()].merge(open) }
                        openBlock = MetricBlock.Key(series: series, block: block)
                        open = MetricBlock()
                    }
                    open.add(index: index, step: step, value: value, timestamp: timestamp)
                }
                if let currentKey { stats[currentKey] = current }
                if let openBlock { blocks[openBlock, default: MetricBlock()].merge(open) }
                // In key order, like the points: the B-tree is walked once, front to back.
                for row in stats.values.sorted(by: { $0.key < $1.key }) where row.count > 0 {
                    try row.save(db)
                }
                try MetricBlock.add(db, blocks)
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
            let onlyMetrics =
                batch.params.isEmpty && batch.tags.isEmpty && batch.removedTags.isEmpty && batch.links.isEmpty
                && batch.logs.isEmpty
            if !batch.isEmpty && (!onlyMetrics || now - updatedAt >= 1_000_000) {
                try db.cachedStatement(sql: "UPDATE runs SET updated_at = ? WHERE id = ?").execute(arguments: [now, id])
            }
            if !params.isEmpty || !batch.tags.isEmpty || !batch.removedTags.isEmpty {
                try SearchIndex.refresh(db, runID: id)
            }
            return BatchResult(metricsWritten: written, metricsIgnored: ignored)
        }
    }

    /// The points with each key's points together, keys in ascending order and each key's points in the
    /// order given (which numbers the points sent without `idx`). Keys in order make the inserts walk the
    /// `metrics`, `metric_stats` and `metric_blocks` B-trees front to back: with thousands of keys, inserts in
    /// the client's order touch pages all over the trees, which stops fitting SQLite's page cache and makes
    /// a large batch cost more per point than a small one. A batch of one key is returned as it is.
    static func groupedByKey(_ metrics: [MetricValue]) -> [MetricValue] {
        var changes = 0
        var previous: String?
        for metric in metrics where metric.key != previous {
            changes += 1
            previous = metric.key
        }
        guard changes > 1 else { return metrics }
        var groupOf: [String: Int] = [:]
        var groups: [[MetricValue]] = []
        for metric in metrics {
            if let group = groupOf[metric.key] {
                groups[group].append(metric)
            } else {
                groupOf[metric.key] = groups.count
                groups.append([metric])
            }
        }
        // Keys are NFC (normalized at the API edge), where `String`'s order is the order of their UTF-8
        // bytes, SQLite's BINARY collation.
        var grouped: [MetricValue] = []
        grouped.reserveCapacity(metrics.count)
        for group in groups.sorted(by: { $0[0].key < $1[0].key }) { grouped.append(contentsOf: group) }
        return grouped
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

    /// The index or step after the largest one a metric has, refusing to go past ``MetricBounds/largest``
    /// (a database written before the bounds existed may hold `Int.max`).
    private static func next(after last: Int, _ field: String, _ key: String, _ run: RunID) throws -> Int {
        let (next, overflow) = last.addingReportingOverflow(1)
        guard !overflow, next <= MetricBounds.largest else {
            // The request is well formed; the series it extends has run out of numbers: a conflict.
            throw QuillError(
                .conflict,
                "metric '\(key)' of run '\(run)' has no \(field) after \(last); send \(field) with each point"
            )
        }
        return next
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
        guard let total = try pointCount(db, run: run, key: key), limit < total / 4,
            let series = try Self.series(db, run: run, key: key)
        else { return nil }
        let buckets = (limit - 2) / 2
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
        guard blocks.count >= buckets, let first = blocks.first, let last = blocks.last else { return nil }
        let lookup = try RawStatement(
            db,
            sql: "SELECT step, value, ts FROM metrics WHERE series = ? AND idx = ?"
        )
        lookup.bind(series, at: 1)
        func point(at index: Int) throws -> MetricPoint? {
            lookup.bind(Int64(index), at: 2)
            defer { lookup.reset() }
            guard try lookup.next() else { return nil }
            return MetricPoint(
                index: index,
                step: Int(lookup.int64(0)),
                timestamp: Timestamp.date(microseconds: lookup.int64(2)),
                value: lookup.double(1) ?? .nan
            )
        }
        var points: [MetricPoint] = []
        points.reserveCapacity(limit)
        if let point = try point(at: first.firstIndex) { points.append(point) }
        for bucket in 0..<buckets {
            let start = bucket * blocks.count / buckets
            let end = (bucket + 1) * blocks.count / buckets
            guard start < end else { continue }
            var summary = MetricBlock()
            for block in blocks[start..<end] { summary.merge(block) }
            guard let minimum = summary.minimum, let maximum = summary.maximum else {
                // Every value in the bucket is NaN: keep one, so the gap shows.
                if summary.firstIndex > (points.last?.index ?? Int.min), let point = try point(at: summary.firstIndex) {
                    points.append(point)
                }
                continue
            }
            let pair = minimum.index <= maximum.index ? [minimum, maximum] : [maximum, minimum]
            for kept in pair where kept.index > (points.last?.index ?? Int.min) {
                points.append(kept.metricPoint)
            }
        }
        if last.lastIndex > (points.last?.index ?? Int.min), let point = try point(at: last.lastIndex) {
            points.append(point)
        }
        return DownsampledHistory(points: points, totalPoints: total)
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
