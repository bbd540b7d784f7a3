/// Shrinks a long metric curve to a bounded number of points that still shows every spike.
///
/// The points are cut into `maxPoints / 2` buckets of consecutive points; each bucket keeps its smallest
/// and its largest value, in their original order (one point when they are the same point). The first
/// and last points of the curve are always kept. NaN values are kept as the extremes of their bucket only
/// when the bucket has no other value. A curve of `maxPoints` points or fewer is returned as it is.
///
/// ```swift
/// let shown = MetricDownsampling.minMax(points, maxPoints: 2000)   // 1,000,000 points → at most 2,000
/// ```
public enum MetricDownsampling: Sendable {
    /// Downsamples a curve, keeping each bucket's minimum and maximum.
    ///
    /// - Parameters:
    ///   - points: The curve, in logging order.
    ///   - maxPoints: The most points to return; at least 4.
    /// - Returns: At most `maxPoints` points, a subsequence of `points`.
    public static func minMax(_ points: [MetricPoint], maxPoints: Int) -> [MetricPoint] {
        let limit = max(4, maxPoints)
        let count = points.count
        guard count > limit else { return points }
        // The first and last points are kept as they are; the inner points share the other places.
        let inner = count - 2
        let buckets = (limit - 2) / 2
        var result: [MetricPoint] = []
        result.reserveCapacity(limit)
        result.append(points[0])
        for bucket in 0..<buckets {
            let start = 1 + bucket * inner / buckets
            let end = 1 + (bucket + 1) * inner / buckets
            guard start < end else { continue }
            var minIndex = -1
            var maxIndex = -1
            for index in start..<end {
                let value = points[index].value
                if value.isNaN { continue }
                if minIndex < 0 || value < points[minIndex].value { minIndex = index }
                if maxIndex < 0 || value > points[maxIndex].value { maxIndex = index }
            }
            if minIndex < 0 {
                // Every value in the bucket is NaN: keep one, so the gap shows.
                result.append(points[start])
                continue
            }
            result.append(points[min(minIndex, maxIndex)])
            if minIndex != maxIndex { result.append(points[max(minIndex, maxIndex)]) }
        }
        result.append(points[count - 1])
        return result
    }
}
