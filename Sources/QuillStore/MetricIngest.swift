package import QuillCore

/// What a batch's metric values do to a run's metrics, the same in every backend: each key's values together,
/// keys in order; a value without an index or a step gets the one after the key's largest; a value whose key
/// and index the store has is ignored; the written points update their key's statistics
/// (``MetricSeriesStatistics``) and their blocks' summaries (``MetricBlock``).
///
/// The backend supplies the series ids, the stored statistics and the insert of one point, which says whether
/// the point was new; it then writes ``statistics`` and merges ``blocks`` into its stored blocks, in the same
/// transaction.
package struct MetricIngest: Sendable {
    /// A point to store.
    package struct Point: Sendable, Equatable {
        /// The series (a metric of one run).
        package var series: Int64
        /// The point's index.
        package var index: Int
        /// The point's step.
        package var step: Int
        /// The value, `nil` for NaN; never -0.0 (stored as 0.0).
        package var value: Double?
        /// Microseconds since the epoch.
        package var timestamp: Int64
    }

    /// The statistics of every key the batch wrote points of, after the batch.
    package var statistics: [String: MetricSeriesStatistics] = [:]
    /// Summaries of the written points, by block: merge each into the stored block.
    package var blocks: [MetricBlock.Key: MetricBlock] = [:]
    /// Values written.
    package var written = 0
    /// Values ignored (their key and index were stored).
    package var ignored = 0

    /// Runs a batch's metric values through `insert`, in ``groupedByKey(_:)`` order.
    ///
    /// - Parameters:
    ///   - metrics: The batch's values.
    ///   - run: The run (for error messages).
    ///   - series: The series id of a key, made when the run has none yet; asked once per key.
    ///   - stored: The statistics a key has before the batch; asked once per key.
    ///   - insert: Stores a point unless its series has its index; returns whether it stored it.
    /// - Throws: What the closures throw; ``QuillError/Code/conflict`` when a key has no index or step left.
    package static func run(
        _ metrics: [MetricValue],
        run: RunID,
        series: (String) throws -> Int64,
        stored: (String) throws -> MetricSeriesStatistics,
        insert: (Point) throws -> Bool
    ) throws -> MetricIngest {
        var result = MetricIngest()
        var currentKey: String?
        var current = MetricSeriesStatistics()
        var currentSeries: Int64 = 0
        // The new points' block summaries, gathered in memory and merged once per touched block; points usually
        // come in index order, so one block is open at a time.
        var openBlock: MetricBlock.Key?
        var open = MetricBlock()
        for metric in groupedByKey(metrics) {
            if metric.key != currentKey {
                if let currentKey { result.statistics[currentKey] = current }
                current = try result.statistics[metric.key] ?? stored(metric.key)
                currentKey = metric.key
                currentSeries = try series(metric.key)
                if let openBlock { result.blocks[openBlock, default: MetricBlock()].merge(open) }
                openBlock = nil
            }
            let index = try metric.index ?? current.nextIndex(key: metric.key, run: run)
            let step = try metric.step ?? current.nextStep(key: metric.key, run: run)
            // -0.0 is stored as 0.0 by every backend (SQLite cannot keep the sign of a zero; PostgreSQL could).
            let value = metric.value.isNaN ? nil : (metric.value == 0 ? 0 : metric.value)
            let point = Point(
                series: currentSeries,
                index: index,
                step: step,
                value: value,
                timestamp: Timestamp.microseconds(metric.timestamp)
            )
            guard try insert(point) else {
                result.ignored += 1
                continue
            }
            result.written += 1
            current.add(index: index, step: step, value: metric.value)
            let block = MetricBlock.number(of: index)
            if openBlock?.block != block {
                if let openBlock { result.blocks[openBlock, default: MetricBlock()].merge(open) }
                openBlock = MetricBlock.Key(series: currentSeries, block: block)
                open = MetricBlock()
            }
            open.add(index: index, step: step, value: value, timestamp: point.timestamp)
        }
        if let currentKey { result.statistics[currentKey] = current }
        if let openBlock { result.blocks[openBlock, default: MetricBlock()].merge(open) }
        result.statistics = result.statistics.filter { $0.value.count > 0 }
        return result
    }

    /// The points with each key's points together, keys in ascending order and each key's points in the
    /// order given (which numbers the points sent without `idx`). Keys in order make the inserts walk the
    /// `metrics`, `metric_stats` and `metric_blocks` indexes front to back: with thousands of keys, inserts in
    /// the client's order touch pages all over the trees, which stops fitting a page cache and makes a large
    /// batch cost more per point than a small one. A batch of one key is returned as it is.
    package static func groupedByKey(_ metrics: [MetricValue]) -> [MetricValue] {
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
        // bytes: SQLite's BINARY collation, PostgreSQL's "C".
        var grouped: [MetricValue] = []
        grouped.reserveCapacity(metrics.count)
        for group in groups.sorted(by: { $0[0].key < $1[0].key }) { grouped.append(contentsOf: group) }
        return grouped
    }
}
