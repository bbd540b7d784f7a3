import QuillStore
import Synchronization

/// What the store knows of a run's metrics after its last batch (issue 15, ingest speed): each key's series,
/// statistics and last block, and the run's `updated_at`, as that batch's transaction left them.
///
/// With it, the next batch of new points is computed before anything is read and written with one statement
/// (``WriteMetricsStatement``), which checks under the run's lock that each key's series, count and largest
/// index are still these: another replica's batch, a batch of this replica that raced it, or a deleted run
/// makes the statement write nothing, and the store takes the transactional path, which reads everything again.
/// So a stale entry costs a round trip, never a wrong write.
struct RunIngestState: Sendable {
    /// One key of the run.
    struct Key: Sendable {
        /// The key's series.
        var series: Int64
        /// Its statistics (`nil` when it has no points).
        var statistics: MetricSeriesStatistics?
        /// The summary of the block of its largest index, with that block's key.
        var lastBlock: (key: MetricBlock.Key, value: MetricBlock)?
    }

    /// The run's `updated_at`.
    var updatedAt: Int64
    /// The keys known, by name.
    var keys: [String: Key] = [:]

    /// The checks ``WriteMetricsStatement`` makes for `names` (keys this state knows).
    func checks(_ names: some Sequence<String>) -> [MetricKeyCheck] {
        names.compactMap { name in
            keys[name].map { key in
                MetricKeyCheck(
                    key: name,
                    series: key.series,
                    count: key.statistics.map { Int64($0.count) },
                    lastIndex: key.statistics.map { Int64($0.lastIndex) }
                )
            }
        }
    }

    /// Takes in a batch's outcome: `statistics` of keys after it, with their series, and summaries of blocks
    /// (those of the keys' largest indexes among them are kept).
    mutating func apply(
        statistics: [String: MetricSeriesStatistics],
        series seriesOf: [String: Int64],
        blocks: [MetricBlock.Key: MetricBlock]
    ) {
        for (name, series) in seriesOf {
            var key = keys[name] ?? Key(series: series)
            if key.series != series { key = Key(series: series) }
            if let stats = statistics[name], stats.count > 0 {
                let blockKey = MetricBlock.Key(series: series, block: MetricBlock.number(of: stats.lastIndex))
                key.statistics = stats
                key.lastBlock = blocks[blockKey].map { (blockKey, $0) }
            }
            keys[name] = key
        }
    }

    /// Whether a batch of `metrics` can be computed from this state alone: every key known, with its last
    /// block when it has points, and every index given after its key's largest (no point can be stored yet).
    func covers(_ metrics: [MetricValue]) -> Bool {
        for metric in metrics {
            guard let key = keys[metric.key] else { return false }
            if let stats = key.statistics {
                guard key.lastBlock != nil else { return false }
                if let index = metric.index, index <= stats.lastIndex { return false }
            }
        }
        return true
    }
}

/// The runs' ``RunIngestState``s of a store, at most ``capacity`` of them (a run ingesting again after being
/// dropped takes the transactional path once).
final class IngestMemory: Sendable {
    /// Runs remembered at most.
    static let capacity = 512
    private let runs = Mutex<[String: RunIngestState]>([:])
    /// Batches written by one statement, and those it turned down (the run had changed).
    private let outcomes = Mutex(OneStatementBatches())

    /// The batches counted so far.
    var counted: OneStatementBatches { outcomes.withLock { $0 } }

    /// Counts a batch the one statement wrote (`true`) or turned down.
    func count(written: Bool) {
        outcomes.withLock { counts in
            if written { counts.written += 1 } else { counts.turnedDown += 1 }
        }
    }

    /// The state remembered for `run`.
    func state(of run: String) -> RunIngestState? {
        runs.withLock { $0[run] }
    }

    /// Remembers `state` for `run`.
    func remember(_ state: RunIngestState, for run: String) {
        runs.withLock { runs in
            if runs[run] == nil, runs.count >= Self.capacity, let any = runs.keys.first {
                runs[any] = nil
            }
            runs[run] = state
        }
    }

    /// Forgets `run`.
    func forget(_ run: String) {
        runs.withLock { _ = $0.removeValue(forKey: run) }
    }
}

/// How many batches a store wrote with one statement (``PostgresStore/oneStatementBatches``).
package struct OneStatementBatches: Sendable, Equatable {
    /// Batches written by the one statement.
    package var written = 0
    /// Batches it turned down because the run had changed since the store's last batch (or was gone), written
    /// by the transactional path instead.
    package var turnedDown = 0

    /// Counts.
    package init(written: Int = 0, turnedDown: Int = 0) {
        self.written = written
        self.turnedDown = turnedDown
    }
}

extension PostgresStore {
    /// How many batches this store wrote with one statement, and how many that statement turned down: what
    /// tests and benchmarks check the fast path with.
    package var oneStatementBatches: OneStatementBatches {
        ingestMemory.counted
    }
}
