/// Per-key statistics of a run's metrics: count, last value and step, minimum and maximum.
public struct MetricStatistics: Sendable, Hashable {
    /// How many values were logged.
    public var count: Int
    /// The last value logged.
    public var last: Double
    /// The step of the last value.
    public var lastStep: Int?
    /// The smallest value, ignoring NaN (NaN when every value is NaN).
    public var min: Double
    /// The largest value, ignoring NaN (NaN when every value is NaN).
    public var max: Double

    /// Creates statistics.
    public init(count: Int, last: Double, lastStep: Int?, min: Double, max: Double) {
        self.count = count
        self.last = last
        self.lastStep = lastStep
        self.min = min
        self.max = max
    }

    /// Computes the statistics of every key in rows, in row order.
    public static func compute(_ rows: [MetricRow]) -> [String: MetricStatistics] {
        var result: [String: MetricStatistics] = [:]
        for row in rows {
            for (key, value) in row.values {
                if var stats = result[key] {
                    stats.count += 1
                    stats.last = value
                    stats.lastStep = row.step
                    if !value.isNaN {
                        stats.min = stats.min.isNaN ? value : Swift.min(stats.min, value)
                        stats.max = stats.max.isNaN ? value : Swift.max(stats.max, value)
                    }
                    result[key] = stats
                } else {
                    result[key] = MetricStatistics(count: 1, last: value, lastStep: row.step, min: value, max: value)
                }
            }
        }
        return result
    }
}
