import QuillStore

/// How a series' points are stored on PostgreSQL since migration "v6": rows of `metric_chunks`, each holding up to
/// ``maximum`` consecutive points of one series as four arrays sorted by index (issue 15, ingest speed).
///
/// A batch's points of one series become one chunk, or several when it has more than ``maximum`` of them.
/// Chunks are never merged afterwards: batches of a few points make small chunks, which cost a row each but
/// read back as well.
enum MetricChunk {
    /// The most points a chunk holds: 1,024.
    ///
    /// A batch of 1,000 points of one key (the usual client batch) is one chunk, so each batch writes one row.
    /// Larger chunks would not make ingest cheaper (the row is written once per batch whatever the limit) but
    /// would make reads dearer: a page of a tail or one point a downsampled history reads detoasts the four
    /// arrays of its whole chunk, 32 KB at 1,024 points against 128 KB at 4,096.
    static let maximum = 1_024

    /// A point of a chunk.
    struct Point: Sendable, Equatable {
        var series: Int64
        var index: Int64
        var step: Int64
        /// `nil` for NaN.
        var value: Double?
        /// Microseconds since the epoch.
        var timestamp: Int64

        /// A point of a batch.
        init(_ point: MetricIngest.Point) {
            self.init(
                series: point.series,
                index: Int64(point.index),
                step: Int64(point.step),
                value: point.value,
                timestamp: point.timestamp
            )
        }

        init(series: Int64, index: Int64, step: Int64, value: Double?, timestamp: Int64) {
            self.series = series
            self.index = index
            self.step = step
            self.value = value
            self.timestamp = timestamp
        }

        /// Its series and index, as a set member or dictionary key.
        var key: Key { Key(series: series, index: index) }
    }

    /// A point's series and index.
    struct Key: Hashable, Sendable {
        var series: Int64
        var index: Int64
    }

    /// The range of indexes a batch touches in each series: the chunks overlapping them are the ones it reads
    /// or rewrites (`c.last_idx >= lo AND c.first_idx <= hi`).
    struct IndexRanges {
        private var ranges: [Int64: ClosedRange<Int64>] = [:]

        /// Widens `series`' range to hold `index`.
        mutating func include(series: Int64, index: Int64) {
            ranges[series] =
                ranges[series].map { min($0.lowerBound, index)...max($0.upperBound, index) } ?? index...index
        }

        var isEmpty: Bool { ranges.isEmpty }

        /// The series, lowest and highest indexes as three arrays, in the order of the series (bound as
        /// `unnest(series, lo, hi)`).
        var columns: (series: [Int64], low: [Int64], high: [Int64]) {
            let sorted = ranges.sorted { $0.key < $1.key }
            return (sorted.map(\.key), sorted.map(\.value.lowerBound), sorted.map(\.value.upperBound))
        }
    }

    /// A chunk to insert: its bounds, and the 1-based positions of its first and last points in the flat
    /// arrays bound with it.
    struct Bounds: Sendable, Equatable {
        var series: Int64
        var firstIndex: Int64
        var lastIndex: Int64
        var minStep: Int64
        var maxStep: Int64
        var count: Int64
        var start: Int64
        var end: Int64
    }

    /// Points (each series and index once, in any order) sorted by series and index, and cut into chunks of
    /// at most `maximum` consecutive points of one series.
    static func split(
        _ points: [Point],
        maximum: Int = maximum
    ) -> (points: [Point], chunks: [Bounds]) {
        var sorted = points
        let ordered = zip(points, points.dropFirst()).allSatisfy { left, right in
            (left.series, left.index) < (right.series, right.index)
        }
        if !ordered { sorted.sort { ($0.series, $0.index) < ($1.series, $1.index) } }
        var chunks: [Bounds] = []
        var start = 0
        while start < sorted.count {
            let series = sorted[start].series
            var end = start
            var minStep = sorted[start].step
            var maxStep = minStep
            while end + 1 < sorted.count, sorted[end + 1].series == series, end + 1 - start < maximum {
                end += 1
                minStep = min(minStep, sorted[end].step)
                maxStep = max(maxStep, sorted[end].step)
            }
            chunks.append(
                Bounds(
                    series: series,
                    firstIndex: sorted[start].index,
                    lastIndex: sorted[end].index,
                    minStep: minStep,
                    maxStep: maxStep,
                    count: Int64(end - start + 1),
                    start: Int64(start + 1),
                    end: Int64(end + 1)
                )
            )
            start = end + 1
        }
        return (sorted, chunks)
    }
}

extension PostgresStore {
    /// The most metric points one row of `metric_chunks` holds (``MetricChunk/maximum``): `quill db copy`
    /// writes chunks of at most this many.
    package static var metricChunkMaximum: Int { MetricChunk.maximum }
}
