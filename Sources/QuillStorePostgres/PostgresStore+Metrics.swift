import Foundation
import PostgresNIO
package import QuillCore
package import QuillStore

// A run's batches and metric reads on PostgreSQL: the numbering, statistics and block summaries are
// ``MetricIngest``'s and ``MetricBlock``'s (as on SQLite); the points, statistics and blocks go in with one
// statement per batch, the function `quill_write_metrics` (migrations "v5", "v6") called with arrays bound as
// parameters (PostgresMetricStatements.swift). A batch of new points of a run the store remembers
// (``IngestMemory``) is that statement alone, in autocommit: one round trip and one WAL sync. Points are stored
// in chunks (``MetricChunk``, `metric_chunks`), which reads unnest, reading only the chunks a range can touch.
extension PostgresStore {
    // MARK: Logging

    /// Writes a batch atomically.
    ///
    /// A batch of only metrics, of keys this store wrote last time, each point sent with an index after its
    /// key's largest (or without one) is computed from what the store remembers of the run (``IngestMemory``)
    /// and written with ONE statement (``WriteMetricsStatement``), which locks the run's row and writes nothing
    /// unless the remembered series, counts and largest indexes are the stored ones. Any other batch, or one
    /// that statement turned down, is one transaction of a few statements, which reads everything under the
    /// run's lock: `BEGIN`, the run's lock, its keys' series and statistics, one write, `COMMIT`.
    ///
    /// The run's row is locked first (`FOR NO KEY UPDATE`: inserts that reference the run do not wait for it),
    /// so the batches of one run apply one at a time, as on SQLite's single writer: two batches that change the
    /// same param cannot both pass, and a key's numbering, statistics and blocks are read and written by one
    /// batch at a time. Batches of different runs do not wait for each other.
    package func logBatch(_ run: RunID, _ batch: LogBatch) async throws -> BatchResult {
        do {
            if let result = try await logRemembered(run, batch) { return result }
            return try await logBatch(run, batch, appending: true)
        } catch let error as QuillError where (error.underlying as? PSQLError)?.isUniqueViolation == true {
            // A point the statistics said could not be stored yet was (a store filled by other means): the whole
            // batch was rolled back; write it again, skipping the points already there.
            return try await logBatch(run, batch, appending: false)
        }
    }

    /// Writes a batch of new points with one statement from what the store remembers of the run, or returns
    /// `nil` (nothing written) when it cannot: not only metrics, a key or index the memory does not cover, or
    /// the statement found the run changed or gone.
    private func logRemembered(_ run: RunID, _ batch: LogBatch) async throws -> BatchResult? {
        let id = run.rawValue
        guard TrackingRules.onlyMetrics(batch), !batch.metrics.isEmpty, var state = ingestMemory.state(of: id),
            state.covers(batch.metrics)
        else { return nil }
        let keys = state.keys
        var write = MetricWrite(run: id, capacity: batch.metrics.count)
        var seen = Set<SeriesIndex>()
        let ingest: MetricIngest
        do {
            ingest = try MetricIngest.run(
                batch.metrics,
                run: run,
                series: { key in
                    guard let series = keys[key]?.series else { throw CancellationError() }
                    return series
                },
                stored: { key in keys[key]?.statistics ?? MetricSeriesStatistics() },
                insert: { point in
                    guard seen.insert(SeriesIndex(series: point.series, index: point.index)).inserted else {
                        return false
                    }
                    write.add(point)
                    return true
                }
            )
        } catch {
            // Refused (a key out of indexes, say): the transactional path reads the run and says why.
            return nil
        }
        guard !write.isEmpty else { return nil }
        // The block of each key's largest index, which these points extend (the only stored block they can
        // touch: every index is after it).
        var merged = ingest.blocks
        for name in ingest.statistics.keys {
            if let (blockKey, block) = keys[name]?.lastBlock, merged[blockKey] != nil { merged[blockKey]?.merge(block) }
        }
        write.statistics = ingest.statistics.sorted { $0.key < $1.key }
        write.blocks = merged.sorted { ($0.key.series, $0.key.block) < ($1.key.series, $1.key.block) }
        let now = Self.now()
        let statement = WriteMetricsStatement(
            write: write,
            merged: false,
            touch: TrackingRules.touchesRun(batch, updatedAt: state.updatedAt, now: now) ? now : nil,
            checks: state.checks(Set(batch.metrics.map(\.key)))
        )
        var updatedAt: Int64?
        do {
            updatedAt = try await withConnection { connection in
                var answer: Int64?
                for try await row in try await connection.execute(statement, logger: logger) { answer = row }
                return answer
            }
        } catch {
            ingestMemory.forget(id)
            throw error
        }
        guard let updatedAt else {
            // The run changed since (another replica's batch, a race) or is gone: read it again.
            ingestMemory.forget(id)
            ingestMemory.count(written: false)
            return nil
        }
        state.updatedAt = updatedAt
        var seriesOf: [String: Int64] = [:]
        for name in ingest.statistics.keys { seriesOf[name] = keys[name]?.series }
        state.apply(statistics: ingest.statistics, series: seriesOf, blocks: merged)
        ingestMemory.remember(state, for: id)
        ingestMemory.count(written: true)
        return BatchResult(metricsWritten: ingest.written, metricsIgnored: ingest.ignored)
    }

    /// ``logBatch(_:_:)``'s transactional path, its new points inserted without `ON CONFLICT` when `appending`
    /// and no point can be stored already. It remembers what it leaves of the run's metrics (``IngestMemory``)
    /// once committed.
    private func logBatch(_ run: RunID, _ batch: LogBatch, appending: Bool) async throws -> BatchResult {
        let id = run.rawValue
        ingestMemory.forget(id)
        let (result, state) = try await transaction { connection in
            let needsStored = ParamConflict.needsStoredParams(batch)
            // The run's config is read only when the params need it (it may be large).
            var found: (updatedAt: Int64, config: String?)?
            for try await row in try await connection.execute(
                LockRunStatement(run: id, withConfig: needsStored),
                logger: logger
            ) {
                found = row
            }
            guard let found else { throw TrackingRules.missingRun(run) }
            let (updatedAt, config) = found
            // First, before anything is written: a refused param change refuses the whole batch.
            var storedParams: [String: JSONValue] = [:]
            if needsStored {
                let rows = try await connection.query(
                    "SELECT key, value FROM params WHERE run_id = \(id) AND key = ANY(\(Array(batch.params.keys)))",
                    logger: logger
                )
                for try await (key, value) in rows.decode((String, String).self) {
                    storedParams[key] = RunRow.json(value) ?? .null
                }
            }
            let params = try ParamConflict.paramsToWrite(
                batch,
                runID: run,
                config: config.flatMap(RunRow.json),
                stored: storedParams
            )
            var result = BatchResult(metricsWritten: 0, metricsIgnored: 0)
            var state = RunIngestState(updatedAt: updatedAt)
            if !batch.metrics.isEmpty {
                result = try await writeMetrics(connection, run: run, batch.metrics, appending: appending, into: &state)
            }
            try await setPairs(connection, "params", owner: "run_id", id, params.mapValues(JSONWriter.string))
            // Removed tags first, then set ones: a key in both ends up set.
            if !batch.removedTags.isEmpty {
                try await connection.query(
                    "DELETE FROM tags WHERE run_id = \(id) AND key = ANY(\(batch.removedTags))",
                    logger: logger
                )
            }
            try await setPairs(connection, "tags", owner: "run_id", id, batch.tags)
            if !batch.links.isEmpty {
                // In the batch's order (links read back by id); one already there is ignored.
                try await connection.query(
                    """
                    INSERT INTO links (run_id, label, url, created_at)
                    SELECT \(id), label, url, ts
                    FROM unnest(\(batch.links.map(\.label))::text[], \(batch.links.map(\.url))::text[],
                        \(batch.links.map { Timestamp.microseconds($0.timestamp) })::bigint[])
                        WITH ORDINALITY AS l(label, url, ts, n)
                    ORDER BY n
                    ON CONFLICT DO NOTHING
                    """,
                    logger: logger
                )
            }
            if !batch.logs.isEmpty {
                // Arrays hold no NULLs here: a line without a time or a level is sent as `noTime` or "".
                try await connection.query(
                    """
                    INSERT INTO logs (run_id, ts, level, message)
                    SELECT \(id), nullif(ts, \(Self.noTime)), nullif(level, ''), message
                    FROM unnest(\(batch.logs.map { $0.timestamp.map(Timestamp.microseconds) ?? Self.noTime })::bigint[],
                        \(batch.logs.map { $0.level?.rawValue ?? "" })::text[], \(batch.logs.map(\.message))::text[])
                        WITH ORDINALITY AS l(ts, level, message, n)
                    ORDER BY n
                    """,
                    logger: logger
                )
            }
            let now = Self.now()
            if TrackingRules.touchesRun(batch, updatedAt: updatedAt, now: now) {
                try await connection.query("UPDATE runs SET updated_at = \(now) WHERE id = \(id)", logger: logger)
                state.updatedAt = now
            }
            if TrackingRules.changesSearchFields(batch, params: params) {
                try await refreshSearchIndex(runID: run, on: connection)
            }
            return (result, state)
        }
        ingestMemory.remember(state, for: id)
        return result
    }

    /// The value that stands for "no time" in a bound array of log times (arrays are bound without NULLs).
    private static let noTime = Int64.min

    /// A point of a series, as a set member.
    private struct SeriesIndex: Hashable {
        var series: Int64
        var index: Int
    }

    /// Writes a batch's metric values inside the batch's transaction (the run's row locked): series made for
    /// new keys and their statistics read in one statement, the points stored already (only for points sent
    /// with an index at most their key's largest) and the blocks they touch read, then the new points, the
    /// keys' statistics and the blocks' summaries written in one statement.
    private func writeMetrics(
        _ connection: PostgresConnection,
        run: RunID,
        _ metrics: [MetricValue],
        appending: Bool,
        into state: inout RunIngestState
    ) async throws -> BatchResult {
        let id = run.rawValue
        let keys = Array(Set(metrics.map(\.key))).sorted()
        // Every key's series, made when new, and its statistics, in one statement. The run's row is locked, so
        // no other batch makes a series of this run meanwhile.
        let seriesRows = try await connection.execute(SeriesStatement(run: id, keys: keys), logger: logger)
        var seriesOf: [String: Int64] = [:]
        var stored: [String: MetricSeriesStatistics] = [:]
        // The block of each key's largest stored index, which a batch of new points usually extends: read here
        // rather than by a statement of its own.
        var boundary: [MetricBlock.Key: MetricBlock] = [:]
        for try await row in seriesRows {
            seriesOf[row.0] = row.1
            if let lastIndex = row.3, let count = row.9, let first = row.18, let last = row.19 {
                boundary[MetricBlock.Key(series: row.1, block: MetricBlock.number(of: Int(lastIndex)))] = MetricBlock(
                    count: Int(count),
                    minimum: Self.blockPoint(row.10, row.11, row.12, row.13),
                    maximum: Self.blockPoint(row.14, row.15, row.16, row.17),
                    firstIndex: Int(first),
                    lastIndex: Int(last)
                )
            }
            if let count = row.2, let lastIndex = row.3, let maxStep = row.6 {
                stored[row.0] = MetricSeriesStatistics(
                    count: Int(count),
                    lastIndex: Int(lastIndex),
                    lastValue: row.4,
                    lastStep: row.5.map(Int.init),
                    maxStep: Int(maxStep),
                    minValue: row.7,
                    maxValue: row.8
                )
            }
        }
        // Points the store may have already: those sent with an index at most their key's largest. A re-sent
        // batch asks here (the indexes of the chunks around them); a batch of new points does not.
        var maybeStored = MetricChunk.IndexRanges()
        for metric in metrics {
            guard let index = metric.index, let series = seriesOf[metric.key],
                index <= stored[metric.key]?.lastIndex ?? -1
            else { continue }
            maybeStored.include(series: series, index: Int64(index))
        }
        var existing = Set<SeriesIndex>()
        if !maybeStored.isEmpty {
            let ranges = maybeStored.columns
            let rows = try await connection.query(
                """
                SELECT c.series, p.idx
                FROM unnest(\(ranges.series)::bigint[], \(ranges.low)::bigint[], \(ranges.high)::bigint[])
                    AS r(series, lo, hi)
                JOIN metric_chunks c ON c.series = r.series AND c.last_idx >= r.lo AND c.first_idx <= r.hi
                CROSS JOIN LATERAL unnest(c.idx) AS p(idx)
                WHERE p.idx BETWEEN r.lo AND r.hi
                """,
                logger: logger
            )
            for try await (series, index) in rows.decode((Int64, Int64).self) {
                existing.insert(SeriesIndex(series: series, index: Int(index)))
            }
        }
        var write = MetricWrite(run: id, capacity: metrics.count)
        let ingest = try MetricIngest.run(
            metrics,
            run: run,
            series: { key in
                guard let id = seriesOf[key] else {
                    throw QuillError(.io, "metric '\(key)' of run '\(run)' has no series; retry the batch")
                }
                return id
            },
            stored: { key in stored[key] ?? MetricSeriesStatistics() },
            insert: { point in
                guard existing.insert(SeriesIndex(series: point.series, index: point.index)).inserted else {
                    return false
                }
                write.add(point)
                return true
            }
        )
        var merged = ingest.blocks
        if !write.isEmpty {
            let read = try await storedBlocks(connection, ingest.blocks, lastStored: stored, seriesOf: seriesOf)
            for (key, block) in boundary.merging(read, uniquingKeysWith: { first, _ in first })
            where merged[key] != nil {
                merged[key]?.merge(block)
            }
            // Rows in a fixed order (keys, then series and block), so concurrent batches lock them in one order.
            write.statistics = ingest.statistics.sorted { $0.key < $1.key }
            write.blocks = merged.sorted { ($0.key.series, $0.key.block) < ($1.key.series, $1.key.block) }
            // A batch of new points goes in as it is: the function checks that no stored point lies at or after
            // them (a unique violation when one does: ``logBatch(_:_:)`` writes the batch again, merging). Any
            // other batch rewrites the chunks its points fall among, so chunks never overlap.
            let merging = !(appending && maybeStored.isEmpty)
            if merging { try await mergeStoredChunks(connection, into: &write) }
            let statement = WriteMetricsStatement(write: write, merged: merging, touch: nil)
            for try await _ in try await connection.execute(statement, logger: logger) {}
        }
        // What the next batch can be computed from: each key's statistics after this one and its last block
        // (this batch's merged summary, or the stored one it did not touch).
        state.apply(
            statistics: stored.merging(ingest.statistics) { _, new in new },
            series: seriesOf,
            blocks: boundary.merging(merged) { _, new in new }
        )
        return BatchResult(metricsWritten: ingest.written, metricsIgnored: ingest.ignored)
    }

    /// Reads and deletes the stored chunks that overlap the range of `write`'s new indexes in each series, and
    /// adds their points to `write` (a stored point wins over a new one of the same index): written again,
    /// re-chunked, the series' chunks do not overlap.
    private func mergeStoredChunks(_ connection: PostgresConnection, into write: inout MetricWrite) async throws {
        var touched = MetricChunk.IndexRanges()
        for point in write.points { touched.include(series: point.series, index: point.index) }
        let ranges = touched.columns
        // Points are decoded one per row: PostgresNIO decodes no array holding NULLs (NaN values).
        let rows = try await connection.query(
            """
            WITH gone AS (
                DELETE FROM metric_chunks c
                USING unnest(\(ranges.series)::bigint[], \(ranges.low)::bigint[], \(ranges.high)::bigint[])
                    AS r(series, lo, hi)
                WHERE c.series = r.series AND c.last_idx >= r.lo AND c.first_idx <= r.hi
                RETURNING c.series, c.idx, c.step, c.value, c.ts
            )
            SELECT g.series, p.idx, p.step, p.value, p.ts
            FROM gone g CROSS JOIN LATERAL unnest(g.idx, g.step, g.value, g.ts) AS p(idx, step, value, ts)
            """,
            logger: logger
        )
        var stored: [MetricChunk.Point] = []
        for try await (series, index, step, value, time) in rows.decode((Int64, Int64, Int64, Double?, Int64).self) {
            stored.append(MetricChunk.Point(series: series, index: index, step: step, value: value, timestamp: time))
        }
        write.merge(stored: stored)
    }

    /// The stored summaries of the blocks a batch touched, other than each key's last block (read with the
    /// statistics): those that can hold a stored point (none past the block of the key's largest stored
    /// index), in one statement; none for a batch of new points.
    private func storedBlocks(
        _ connection: PostgresConnection,
        _ added: [MetricBlock.Key: MetricBlock],
        lastStored: [String: MetricSeriesStatistics],
        seriesOf: [String: Int64]
    ) async throws -> [MetricBlock.Key: MetricBlock] {
        var lastBlock: [Int64: Int] = [:]
        for (key, series) in seriesOf {
            if let stats = lastStored[key], stats.count > 0 {
                lastBlock[series] = MetricBlock.number(of: stats.lastIndex)
            }
        }
        let toRead = added.keys.filter { key in lastBlock[key.series].map { key.block < $0 } ?? false }
        guard !toRead.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT b.series, b.block, b.count, b.min_idx, b.min_step, b.min_value, b.min_ts, b.max_idx, b.max_step,
                b.max_value, b.max_ts, b.first_idx, b.last_idx
            FROM metric_blocks b
            JOIN unnest(\(toRead.map(\.series))::bigint[], \(toRead.map { Int64($0.block) })::bigint[])
                AS k(series, block) ON b.series = k.series AND b.block = k.block
            """,
            logger: logger
        )
        var stored: [MetricBlock.Key: MetricBlock] = [:]
        for try await row in rows.decode(
            (Int64, Int64, Int64, Int64?, Int64?, Double?, Int64?, Int64?, Int64?, Double?, Int64?, Int64, Int64).self
        ) {
            stored[MetricBlock.Key(series: row.0, block: Int(row.1))] = MetricBlock(
                count: Int(row.2),
                minimum: Self.blockPoint(row.3, row.4, row.5, row.6),
                maximum: Self.blockPoint(row.7, row.8, row.9, row.10),
                firstIndex: Int(row.11),
                lastIndex: Int(row.12)
            )
        }
        return stored
    }

    /// A block's minimum or maximum point from its stored columns (`nil` when every value was NaN).
    private static func blockPoint(
        _ index: Int64?,
        _ step: Int64?,
        _ value: Double?,
        _ time: Int64?
    )
        -> MetricBlock.Point?
    {
        guard let index, let step, let value, let time else { return nil }
        return MetricBlock.Point(index: Int(index), step: Int(step), value: value, timestamp: time)
    }

    // MARK: Reading metrics

    package func metricHistory(_ run: RunID, key: String, steps: ClosedRange<Int>?) async throws -> [MetricPoint] {
        try await snapshot { connection in
            guard try await runExists(connection, run) else { throw TrackingRules.missingRun(run) }
            guard let series = try await series(connection, run: run, key: key) else { return [] }
            return try await history(connection, series: series, steps: steps)
        }
    }

    /// Without a step range, a history of more than `4 * maxPoints` points is downsampled from its block
    /// summaries (``MetricBlock/downsampled(_:limit:)``) when it has at least as many blocks as buckets, as on
    /// SQLite; otherwise the points are read and downsampled exactly.
    package func downsampledHistory(
        _ run: RunID,
        key: String,
        steps: ClosedRange<Int>?,
        maxPoints: Int
    ) async throws -> DownsampledHistory {
        try await snapshot { connection in
            guard try await runExists(connection, run) else { throw TrackingRules.missingRun(run) }
            guard let series = try await series(connection, run: run, key: key) else {
                return DownsampledHistory(points: [], totalPoints: 0)
            }
            let limit = max(4, maxPoints)
            if steps == nil,
                let fromBlocks = try await blockHistory(connection, run: run, key: key, series: series, limit: limit)
            {
                return fromBlocks
            }
            let points = try await history(connection, series: series, steps: steps)
            return DownsampledHistory(
                points: MetricDownsampling.minMax(points, maxPoints: limit),
                totalPoints: points.count
            )
        }
    }

    /// The points after an index, from the chunks in order of `first_idx` (the primary key), and the largest index.
    package func metricTail(_ run: RunID, key: String, after index: Int?, limit: Int) async throws -> MetricTail {
        try await snapshot { connection in
            guard try await runExists(connection, run) else { throw TrackingRules.missingRun(run) }
            guard let series = try await series(connection, run: run, key: key) else {
                return MetricTail(points: [], lastIndex: nil)
            }
            // The chunk with the largest first index holds the largest index (a series' chunks do not overlap).
            var last: Int?
            let lastRows = try await connection.query(
                "SELECT last_idx FROM metric_chunks WHERE series = \(series) ORDER BY first_idx DESC LIMIT 1",
                logger: logger
            )
            for try await value in lastRows.decode(Int64.self) { last = Int(value) }
            guard let index, limit > 0 else { return MetricTail(points: [], lastIndex: last) }
            // Only the chunks the page needs: the first one after `index` and the next ones while the points of
            // those in between are fewer than `limit` (their counts summed over the chunks' rows, whose arrays are
            // not read).
            let after = Int64(index)
            let points = try await self.points(
                connection,
                """
                WITH needed AS (
                    SELECT first_idx FROM (
                        SELECT first_idx, sum(count) OVER w - count - first_value(count) OVER w AS points_between
                        FROM metric_chunks WHERE series = \(series) AND last_idx > \(after)
                        WINDOW w AS (ORDER BY first_idx)
                    ) k
                    WHERE k.points_between < \(Int64(limit))
                )
                \(unescaped: Self.chunkPoints) WHERE c.series = \(series) AND c.first_idx IN (SELECT first_idx FROM needed)
                    AND p.idx > \(after)
                ORDER BY c.first_idx, p.idx LIMIT \(Int64(limit))
                """
            )
            return MetricTail(points: points, lastIndex: last)
        }
    }

    /// The id of a run's metric in `metric_series`, `nil` when the run has no point of that metric.
    private func series(_ connection: PostgresConnection, run: RunID, key: String) async throws -> Int64? {
        let rows = try await connection.query(
            "SELECT id FROM metric_series WHERE run_id = \(run.rawValue) AND key = \(key)",
            logger: logger
        )
        for try await id in rows.decode(Int64.self) { return id }
        return nil
    }

    private func history(
        _ connection: PostgresConnection,
        series: Int64,
        steps: ClosedRange<Int>?
    ) async throws -> [MetricPoint] {
        if let steps {
            // Only the chunks whose steps reach into the range are read.
            let low = Int64(steps.lowerBound)
            let high = Int64(steps.upperBound)
            return try await points(
                connection,
                """
                \(unescaped: Self.chunkPoints) WHERE c.series = \(series) AND c.max_step >= \(low)
                    AND c.min_step <= \(high) AND p.step BETWEEN \(low) AND \(high)
                ORDER BY c.first_idx, p.idx
                """
            )
        }
        return try await points(
            connection,
            "\(unescaped: Self.chunkPoints) WHERE c.series = \(series) ORDER BY c.first_idx, p.idx"
        )
    }

    /// The start of a query of points from their chunks (`c`), unnested (`p`); a condition and an order follow.
    private static let chunkPoints = """
        SELECT p.idx, p.step, p.value, p.ts
        FROM metric_chunks c CROSS JOIN LATERAL unnest(c.idx, c.step, c.value, c.ts) AS p(idx, step, value, ts)
        """

    /// The points a query of `idx, step, value, ts` returns, in its order.
    private func points(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [MetricPoint] {
        var points: [MetricPoint] = []
        let rows = try await connection.query(query, logger: logger)
        for try await (index, step, value, time) in rows.decode((Int64, Int64, Double?, Int64).self) {
            points.append(
                MetricPoint(
                    index: Int(index),
                    step: Int(step),
                    timestamp: Timestamp.date(microseconds: time),
                    value: value ?? .nan
                )
            )
        }
        return points
    }

    /// The downsampled history from block summaries, or `nil` when the exact path should answer.
    private func blockHistory(
        _ connection: PostgresConnection,
        run: RunID,
        key: String,
        series: Int64,
        limit: Int
    ) async throws -> DownsampledHistory? {
        var total: Int?
        let countRows = try await connection.query(
            "SELECT count FROM metric_stats WHERE run_id = \(run.rawValue) AND key = \(key)",
            logger: logger
        )
        for try await count in countRows.decode(Int64.self) { total = Int(count) }
        guard let total, MetricBlock.answersFromBlocks(total: total, limit: limit) else { return nil }
        let rows = try await connection.query(
            """
            SELECT count, min_idx, min_step, min_value, min_ts, max_idx, max_step, max_value, max_ts, first_idx,
                last_idx
            FROM metric_blocks WHERE series = \(series) ORDER BY block
            """,
            logger: logger
        )
        var blocks: [MetricBlock] = []
        for try await row in rows.decode(
            (Int64, Int64?, Int64?, Double?, Int64?, Int64?, Int64?, Double?, Int64?, Int64, Int64).self
        ) {
            blocks.append(
                MetricBlock(
                    count: Int(row.0),
                    minimum: Self.blockPoint(row.1, row.2, row.3, row.4),
                    maximum: Self.blockPoint(row.5, row.6, row.7, row.8),
                    firstIndex: Int(row.9),
                    lastIndex: Int(row.10)
                )
            )
        }
        guard blocks.count >= MetricBlock.buckets(limit: limit) else { return nil }
        let kept = MetricBlock.downsampled(blocks, limit: limit)
        let wanted = MetricBlock.indexesToRead(kept).map(Int64.init)
        var read: [Int: MetricPoint] = [:]
        // Only the chunks that can hold a wanted index: for each, the chunk with the largest first index at
        // most it (one index probe each), read once however many wanted indexes it holds.
        let query: PostgresQuery = """
            WITH wanted(i) AS (SELECT unnest(\(wanted)::bigint[])),
            firsts AS (
                SELECT DISTINCT (
                    SELECT k.first_idx FROM metric_chunks k WHERE k.series = \(series) AND k.first_idx <= w.i
                    ORDER BY k.first_idx DESC LIMIT 1
                ) AS first_idx
                FROM wanted w
            )
            \(unescaped: Self.chunkPoints) JOIN firsts f ON c.first_idx = f.first_idx
            WHERE c.series = \(series) AND p.idx IN (SELECT i FROM wanted)
            """
        for point in try await points(connection, query) {
            read[point.index] = point
        }
        return DownsampledHistory(points: MetricBlock.points(kept, reading: read), totalPoints: total)
    }
}
