package import QuillCore

// A long history downsampled from its block summaries, the same way in every backend.
extension MetricBlock {
    /// What a downsampled history keeps, in index order: a point a block summary holds, or the index of a
    /// point the backend reads (the first and last points, and one point of a bucket whose values are all NaN).
    package enum Kept: Sendable, Equatable {
        /// A point known from a summary.
        case point(MetricPoint)
        /// A point to read by its index.
        case index(Int)
    }

    /// Whether a history of `total` points without a step range is downsampled to `limit` points from its
    /// blocks rather than from its points: when it has more than four points per point asked for.
    package static func answersFromBlocks(total: Int, limit: Int) -> Bool {
        limit < total / 4
    }

    /// How many buckets a downsampled history of `limit` points (at least 4) groups the blocks into: each
    /// gives its minimum and maximum, and the first and last points are kept.
    package static func buckets(limit: Int) -> Int {
        (limit - 2) / 2
    }

    /// The points a history downsampled from `blocks` (in block order, at least ``buckets(limit:)`` of them)
    /// keeps: consecutive blocks are grouped into buckets, each giving its minimum and maximum point in index
    /// order (or, when its values are all NaN, its first point, so the gap shows); the history's first and
    /// last points are kept, as in ``MetricDownsampling/minMax(_:maxPoints:)``. Resolve the indexes with
    /// ``points(_:reading:)``.
    package static func downsampled(_ blocks: [MetricBlock], limit: Int) -> [Kept] {
        let buckets = buckets(limit: limit)
        guard let first = blocks.first, let last = blocks.last, buckets > 0 else { return [] }
        var kept: [Kept] = [.index(first.firstIndex)]
        kept.reserveCapacity(limit)
        for bucket in 0..<buckets {
            let start = bucket * blocks.count / buckets
            let end = (bucket + 1) * blocks.count / buckets
            guard start < end else { continue }
            var summary = MetricBlock()
            for block in blocks[start..<end] { summary.merge(block) }
            guard let minimum = summary.minimum, let maximum = summary.maximum else {
                kept.append(.index(summary.firstIndex))
                continue
            }
            let pair = minimum.index <= maximum.index ? [minimum, maximum] : [maximum, minimum]
            for point in pair { kept.append(.point(point.metricPoint)) }
        }
        kept.append(.index(last.lastIndex))
        return kept
    }

    /// The indexes ``downsampled(_:limit:)`` asks the backend to read.
    package static func indexesToRead(_ kept: [Kept]) -> [Int] {
        kept.compactMap { if case .index(let index) = $0 { index } else { nil } }
    }

    /// The kept points with the read ones filled in (`read` holds them by index; a missing one is skipped),
    /// each after the one before it in index order (a point two buckets share is kept once).
    package static func points(_ kept: [Kept], reading read: [Int: MetricPoint]) -> [MetricPoint] {
        var points: [MetricPoint] = []
        points.reserveCapacity(kept.count)
        for item in kept {
            let point: MetricPoint?
            switch item {
            case .point(let known): point = known
            case .index(let index): point = read[index]
            }
            if let point, point.index > (points.last?.index ?? Int.min) { points.append(point) }
        }
        return points
    }
}
