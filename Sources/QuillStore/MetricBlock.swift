package import QuillCore

/// The summary of one block of a metric's points, a row of `metric_blocks` in every backend: how many points
/// the block holds, its smallest and largest value (each with the whole point) and its first and last index.
///
/// A block is the points whose index `idx` has the same `floor(idx / size)`. Downsampled reads of long
/// histories read these rows (about `count / size` of them) instead of every point
/// (``MetricBlock/downsampled(_:limit:)``). The minimum and the maximum follow
/// ``MetricDownsampling/minMax(_:maxPoints:)``: NaN values (NULL in `metrics`) are skipped, so both are `nil`
/// when every value of the block is NaN, and between equal values the one with the smallest index wins.
///
/// The arithmetic lives here, once; each backend reads and writes the rows (SQLite's `MetricBlock+Storage`,
/// PostgreSQL's `PostgresStore+Metrics`).
package struct MetricBlock: Sendable, Equatable {
    /// Points per block: 256 keeps a block row small next to its points (one row per 256 points, 0.4% of
    /// the `metrics` rows) while a 1,000,000-point metric still has about 3,900 blocks, more than the
    /// 1,000 buckets of the largest usual request (`max_points=2000`).
    package static let size = 256

    /// A point as it is stored: the value is never NaN here.
    package struct Point: Sendable, Equatable {
        /// The point's index.
        package var index: Int
        /// The point's step.
        package var step: Int
        /// The value (never NaN).
        package var value: Double
        /// Microseconds since the epoch.
        package var timestamp: Int64

        /// Creates a point.
        package init(index: Int, step: Int, value: Double, timestamp: Int64) {
            self.index = index
            self.step = step
            self.value = value
            self.timestamp = timestamp
        }

        /// The point as the store's protocols give it.
        package var metricPoint: MetricPoint {
            MetricPoint(index: index, step: step, timestamp: Timestamp.date(microseconds: timestamp), value: value)
        }
    }

    /// A block of a series (a metric of one run).
    package struct Key: Hashable, Sendable {
        /// The series' id.
        package var series: Int64
        /// The block's number (``MetricBlock/number(of:)``).
        package var block: Int

        /// Creates a key.
        package init(series: Int64, block: Int) {
            self.series = series
            self.block = block
        }
    }

    /// How many points the block holds.
    package var count = 0
    /// The smallest non-NaN value's point.
    package var minimum: Point?
    /// The largest non-NaN value's point.
    package var maximum: Point?
    /// The smallest index.
    package var firstIndex = Int.max
    /// The largest index.
    package var lastIndex = Int.min

    /// An empty summary.
    package init() {}

    /// A summary as stored.
    package init(count: Int, minimum: Point?, maximum: Point?, firstIndex: Int, lastIndex: Int) {
        self.count = count
        self.minimum = minimum
        self.maximum = maximum
        self.firstIndex = firstIndex
        self.lastIndex = lastIndex
    }

    /// The block an index falls in (rounded down, so negative indexes keep their order). Defined for every
    /// `Int`, `Int.min` included: no negation.
    package static func number(of index: Int) -> Int {
        index >= 0 ? index / size : (index + 1) / size - 1
    }

    /// Adds a point that was just written; `value` is `nil` for NaN.
    package mutating func add(index: Int, step: Int, value: Double?, timestamp: Int64) {
        count += 1
        firstIndex = min(firstIndex, index)
        lastIndex = max(lastIndex, index)
        guard let value, !value.isNaN else { return }
        let point = Point(index: index, step: step, value: value, timestamp: timestamp)
        minimum = Self.lower(minimum, point)
        maximum = Self.higher(maximum, point)
    }

    /// Adds the points another summary stands for (of disjoint points).
    package mutating func merge(_ other: MetricBlock) {
        count += other.count
        firstIndex = min(firstIndex, other.firstIndex)
        lastIndex = max(lastIndex, other.lastIndex)
        if let point = other.minimum { minimum = Self.lower(minimum, point) }
        if let point = other.maximum { maximum = Self.higher(maximum, point) }
    }

    private static func lower(_ current: Point?, _ candidate: Point) -> Point {
        guard let current else { return candidate }
        if candidate.value < current.value || (candidate.value == current.value && candidate.index < current.index) {
            return candidate
        }
        return current
    }

    private static func higher(_ current: Point?, _ candidate: Point) -> Point {
        guard let current else { return candidate }
        if candidate.value > current.value || (candidate.value == current.value && candidate.index < current.index) {
            return candidate
        }
        return current
    }
}
