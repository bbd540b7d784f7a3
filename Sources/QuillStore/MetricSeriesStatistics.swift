package import QuillCore

/// The running statistics of one metric of one run, a row of `metric_stats` in every backend, kept so searches
/// and run pages do not scan the points: how many points, the last one (by index), the largest step, and the
/// smallest and largest values. A NaN value is `nil` (NULL), as stored.
package struct MetricSeriesStatistics: Sendable, Equatable {
    /// How many points.
    package var count = 0
    /// The largest index, -1 without points.
    package var lastIndex = -1
    /// The value of the point with the largest index (`nil` when NaN or without points).
    package var lastValue: Double?
    /// The step of the point with the largest index.
    package var lastStep: Int?
    /// The largest step, -1 without points.
    package var maxStep = -1
    /// The smallest value other than NaN.
    package var minValue: Double?
    /// The largest value other than NaN.
    package var maxValue: Double?

    /// No points yet.
    package init() {}

    /// Statistics as stored.
    package init(
        count: Int,
        lastIndex: Int,
        lastValue: Double?,
        lastStep: Int?,
        maxStep: Int,
        minValue: Double?,
        maxValue: Double?
    ) {
        self.count = count
        self.lastIndex = lastIndex
        self.lastValue = lastValue
        self.lastStep = lastStep
        self.maxStep = maxStep
        self.minValue = minValue
        self.maxValue = maxValue
    }

    /// Counts a new point.
    package mutating func add(index: Int, step: Int, value: Double) {
        count += 1
        maxStep = max(maxStep, step)
        if index > lastIndex {
            lastIndex = index
            lastValue = value.isNaN ? nil : value
            lastStep = step
        }
        guard !value.isNaN else { return }
        minValue = minValue.map { min($0, value) } ?? value
        maxValue = maxValue.map { max($0, value) } ?? value
    }

    /// The statistics as the store's protocols give them (NULL values are NaN).
    package var statistics: MetricStatistics {
        MetricStatistics(
            count: count,
            last: lastValue ?? .nan,
            lastStep: lastStep,
            min: minValue ?? .nan,
            max: maxValue ?? .nan
        )
    }

    /// The index a point sent without one gets: the one after the largest.
    ///
    /// - Throws: ``QuillError/Code/conflict`` when the series has run out of indexes.
    package func nextIndex(key: String, run: RunID) throws -> Int {
        try Self.next(after: lastIndex, "idx", key, run)
    }

    /// The step a point sent without one gets: the one after the largest.
    ///
    /// - Throws: ``QuillError/Code/conflict`` when the series has run out of steps.
    package func nextStep(key: String, run: RunID) throws -> Int {
        try Self.next(after: maxStep, "step", key, run)
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
}
