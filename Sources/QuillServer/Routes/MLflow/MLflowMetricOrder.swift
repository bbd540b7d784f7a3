import Foundation
import QuillAPI
import QuillCore

/// How MLflow's SQL store orders and samples a metric's points, over Quill's points.
///
/// MLflow keeps a NaN as the value 0 with a flag (`is_nan`) and an infinity as ±`Double.greatestFiniteMagnitude`,
/// and orders by the stored columns: `get-history` by (timestamp, step, value), `get-history-bulk-interval` by
/// (step, timestamp, value, is_nan). Quill's points keep their real values; only the order follows MLflow's.
struct MLflowMetricOrder: Sendable {
    /// A point with the columns MLflow orders by.
    struct Keyed: Sendable {
        let point: MetricPoint
        /// Milliseconds since 1970, as shown.
        let milliseconds: Int64
        /// The step, as shown (0 when none was logged).
        let step: Int64
        /// The value as MLflow's SQL store keeps it (NaN as 0, infinities as the largest finite values).
        let stored: Double
        let isNaN: Bool

        init(_ point: MetricPoint) {
            self.point = point
            milliseconds = MLflowMetricOrder.milliseconds(point.timestamp)
            step = Int64(point.step ?? 0)
            isNaN = point.value.isNaN
            if point.value.isNaN {
                stored = 0
            } else if point.value.isInfinite {
                stored = point.value > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude
            } else {
                stored = point.value
            }
        }

        /// `get-history`'s order: timestamp, step, value (NaN as 0, then after a 0).
        static func historyPrecedes(_ a: Keyed, _ b: Keyed) -> Bool {
            if a.milliseconds != b.milliseconds { return a.milliseconds < b.milliseconds }
            if a.step != b.step { return a.step < b.step }
            if a.stored != b.stored { return a.stored < b.stored }
            return !a.isNaN && b.isNaN
        }

        /// `get-history-bulk-interval`'s order: step, timestamp, value, is_nan.
        static func stepPrecedes(_ a: Keyed, _ b: Keyed) -> Bool {
            if a.step != b.step { return a.step < b.step }
            if a.milliseconds != b.milliseconds { return a.milliseconds < b.milliseconds }
            if a.stored != b.stored { return a.stored < b.stored }
            return !a.isNaN && b.isNaN
        }

        /// Whether two points have the same columns (MLflow's SQL store keeps one of such points).
        func sameColumns(_ other: Keyed) -> Bool {
            milliseconds == other.milliseconds && step == other.step && stored == other.stored && isNaN == other.isNaN
        }
    }

    /// A date as MLflow's milliseconds since 1970 (rounded to the nearest millisecond, clamped to `Int64`).
    static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite else { return 0 }
        if value >= 9.2e18 { return Int64.max }
        if value <= -9.2e18 { return Int64.min }
        return Int64(value)
    }

    /// The points in `get-history`'s order, and whether index order already was that order (then a page can
    /// be read from the store by index).
    static func historyOrder(_ points: [MetricPoint]) -> (points: [Keyed], wasInOrder: Bool) {
        let keyed = points.map(Keyed.init)
        var inOrder = true
        for position in keyed.indices.dropFirst() where Keyed.historyPrecedes(keyed[position], keyed[position - 1]) {
            inOrder = false
            break
        }
        if inOrder { return (keyed, true) }
        // Index order breaks ties: a stable order, whatever the sort's algorithm.
        let sorted = keyed.sorted { a, b in
            if Keyed.historyPrecedes(a, b) { return true }
            if Keyed.historyPrecedes(b, a) { return false }
            return a.point.index < b.point.index
        }
        return (sorted, false)
    }

    /// MLflow's sample for `get-history-bulk-interval` (`SqlAlchemyStore._sample_rows_with_window_functions`):
    /// the points in step order split into `maxResults` buckets as SQL's `NTILE` splits them (the first
    /// `count % maxResults` buckets one point larger), the first point of each bucket, and the last point,
    /// which replaces the last one taken when the sample is full.
    static func sample(_ points: [MetricPoint], maxResults: Int) -> [MetricPoint] {
        let buckets = max(1, maxResults)
        let keyed = points.map(Keyed.init).sorted { a, b in
            if Keyed.stepPrecedes(a, b) { return true }
            if Keyed.stepPrecedes(b, a) { return false }
            return a.point.index < b.point.index
        }
        guard let last = keyed.last else { return [] }
        var taken: [Keyed] = []
        if keyed.count <= buckets {
            taken = keyed
        } else {
            let size = keyed.count / buckets
            let larger = keyed.count % buckets
            var start = 0
            for bucket in 0..<buckets {
                taken.append(keyed[start])
                start += size + (bucket < larger ? 1 : 0)
            }
        }
        if let final = taken.last, !final.sameColumns(last) {
            if taken.count >= buckets { taken[taken.count - 1] = last } else { taken.append(last) }
        }
        return taken.map(\.point)
    }
}
