import PostgresNIO
import QuillStore

// The statements of a batch's hot path (issue 15, ingest speed), prepared once per connection: their text never
// changes with the batch (every row-valued parameter is an array, unnested), so PostgreSQL parses and plans them
// once per connection instead of once per batch.

/// A `bigint[]` parameter whose elements may be NULL, written straight into the message (PostgresNIO's own
/// arrays bind no NULLs and encode each element through generic code, which is slow in debug builds).
struct Int64ArrayParameter: PostgresNonThrowingEncodable, Sendable {
    var elements: [Int64?]

    static var psqlType: PostgresDataType { .int8Array }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer,
        context: PostgresEncodingContext<JSONEncoder>
    ) {
        ArrayHeader.write(
            into: &buffer,
            element: .int8,
            count: elements.count,
            hasNulls: elements.contains(nil)
        )
        buffer.reserveCapacity(minimumWritableBytes: elements.count * 12)
        for element in elements {
            if let element {
                buffer.writeInteger(8, as: Int32.self)
                buffer.writeInteger(element)
            } else {
                buffer.writeInteger(-1, as: Int32.self)
            }
        }
    }
}

/// A `float8[]` parameter in which NaN and `nil` are NULL (NaN metric values are stored as NULL).
struct DoubleArrayParameter: PostgresNonThrowingEncodable, Sendable {
    var elements: [Double?]

    static var psqlType: PostgresDataType { .float8Array }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer,
        context: PostgresEncodingContext<JSONEncoder>
    ) {
        ArrayHeader.write(
            into: &buffer,
            element: .float8,
            count: elements.count,
            hasNulls: elements.contains { $0 == nil || $0?.isNaN == true }
        )
        buffer.reserveCapacity(minimumWritableBytes: elements.count * 12)
        for element in elements {
            if let element, !element.isNaN {
                buffer.writeInteger(8, as: Int32.self)
                buffer.writeInteger(element.bitPattern)
            } else {
                buffer.writeInteger(-1, as: Int32.self)
            }
        }
    }
}

/// The header of a one-dimensional array in PostgreSQL's binary format.
private enum ArrayHeader {
    static func write(into buffer: inout ByteBuffer, element: PostgresDataType, count: Int, hasNulls: Bool) {
        buffer.writeInteger(count == 0 ? 0 : 1, as: Int32.self)  // dimensions
        buffer.writeInteger(hasNulls ? 1 : 0, as: Int32.self)  // flags
        buffer.writeInteger(element.rawValue)
        guard count > 0 else { return }
        // A batch holds far fewer than 2^31 values (a request body is limited long before); clamp rather than trap.
        buffer.writeInteger(Int32(clamping: count))  // length
        buffer.writeInteger(1, as: Int32.self)  // lower bound
    }
}

/// Locks a run's row for a batch (`FOR NO KEY UPDATE`: rows that reference the run can still be inserted) and
/// reads its last update time and, when asked, its config.
struct LockRunStatement: PostgresPreparedStatement {
    static let name = "quill_batch_lock_run"
    static let sql = "SELECT updated_at, CASE WHEN $2 THEN config END FROM runs WHERE id = $1 FOR NO KEY UPDATE"
    typealias Row = (Int64, String?)

    var run: String
    var withConfig: Bool

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(run)
        bindings.append(withConfig)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// Every key's series of a batch, made when new, with the key's statistics and the block of its largest stored
/// index, in one statement. The run's row is locked, so no other batch makes a series of this run meanwhile.
struct SeriesStatement: PostgresPreparedStatement {
    static let name = "quill_batch_series"
    static let sql = """
        WITH wanted(key) AS (SELECT unnest($2::text[])),
        made AS (
            INSERT INTO metric_series (run_id, key)
            SELECT $1, w.key FROM wanted w
            WHERE NOT EXISTS (SELECT 1 FROM metric_series s WHERE s.run_id = $1 AND s.key = w.key)
            ORDER BY w.key
            RETURNING id, key
        ),
        series AS (
            SELECT id, key FROM made
            UNION ALL
            SELECT s.id, s.key FROM metric_series s JOIN wanted w ON s.key = w.key WHERE s.run_id = $1
        )
        SELECT series.key, series.id, st.count, st.last_idx, st.last_value, st.last_step, st.max_step,
            st.min_value, st.max_value,
            b.count, b.min_idx, b.min_step, b.min_value, b.min_ts, b.max_idx, b.max_step, b.max_value, b.max_ts,
            b.first_idx, b.last_idx
        FROM series LEFT JOIN metric_stats st ON st.run_id = $1 AND st.key = series.key
        LEFT JOIN metric_blocks b ON b.series = series.id AND b.block = st.last_idx / \(MetricBlock.size)
        """
    typealias Row = (
        String, Int64, Int64?, Int64?, Double?, Int64?, Int64?, Double?, Double?, Int64?, Int64?, Int64?,
        Double?, Int64?, Int64?, Int64?, Double?, Int64?, Int64?, Int64?
    )

    var run: String
    var keys: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(run)
        bindings.append(keys)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// A batch's new points, its keys' statistics and its blocks' merged summaries, as the bound arrays of
/// ``WriteMetricsStatement``: the points go in as chunks (``MetricChunk``).
struct MetricWrite: Sendable {
    /// The points to write, in any order, each series and index once.
    private(set) var points: [MetricChunk.Point] = []
    /// The run.
    var run: String
    /// The keys' statistics, sorted by key.
    var statistics: [(key: String, value: MetricSeriesStatistics)] = []
    /// The blocks' summaries, sorted by series and block.
    var blocks: [(key: MetricBlock.Key, value: MetricBlock)] = []

    init(run: String, capacity: Int) {
        self.run = run
        points.reserveCapacity(capacity)
    }

    /// Whether there is no point to write.
    var isEmpty: Bool { points.isEmpty }

    /// Adds a point to write.
    mutating func add(_ point: MetricIngest.Point) {
        points.append(MetricChunk.Point(point))
    }

    /// Adds points read from the chunks the caller deletes: a stored point stays as it is when the batch has a
    /// point of the same series and index too.
    mutating func merge(stored: [MetricChunk.Point]) {
        guard !stored.isEmpty else { return }
        var position: [MetricChunk.Key: Int] = [:]
        for (offset, point) in points.enumerated() { position[point.key] = offset }
        for point in stored {
            if let offset = position[point.key] {
                points[offset] = point
            } else {
                position[point.key] = points.count
                points.append(point)
            }
        }
    }

    /// The points, chunks, statistics and blocks arrays, in the order of `quill_write_metrics`' parameters.
    func append(to bindings: inout PostgresBindings) {
        let (sorted, chunks) = MetricChunk.split(points)
        bindings.append(Int64ArrayParameter(elements: sorted.map(\.index)))
        bindings.append(Int64ArrayParameter(elements: sorted.map(\.step)))
        bindings.append(DoubleArrayParameter(elements: sorted.map(\.value)))
        bindings.append(Int64ArrayParameter(elements: sorted.map(\.timestamp)))
        bindings.append(Int64ArrayParameter(elements: chunks.map(\.series)))
        bindings.append(Int64ArrayParameter(elements: chunks.map(\.firstIndex)))
        bindings.append(Int64ArrayParameter(elements: chunks.map(\.lastIndex)))
        bindings.append(Int64ArrayParameter(elements: chunks.map(\.minStep)))
        bindings.append(Int64ArrayParameter(elements: chunks.map(\.maxStep)))
        bindings.append(Int64ArrayParameter(elements: chunks.map(\.count)))
        bindings.append(Int64ArrayParameter(elements: chunks.map(\.start)))
        bindings.append(Int64ArrayParameter(elements: chunks.map(\.end)))
        bindings.append(statistics.map(\.key))
        let stats = statistics.map(\.value)
        bindings.append(Int64ArrayParameter(elements: stats.map { Int64($0.count) }))
        bindings.append(Int64ArrayParameter(elements: stats.map { Int64($0.lastIndex) }))
        bindings.append(DoubleArrayParameter(elements: stats.map(\.lastValue)))
        bindings.append(Int64ArrayParameter(elements: stats.map { $0.lastStep.map(Int64.init) }))
        bindings.append(Int64ArrayParameter(elements: stats.map { Int64($0.maxStep) }))
        bindings.append(DoubleArrayParameter(elements: stats.map(\.minValue)))
        bindings.append(DoubleArrayParameter(elements: stats.map(\.maxValue)))
        bindings.append(Int64ArrayParameter(elements: blocks.map(\.key.series)))
        bindings.append(Int64ArrayParameter(elements: blocks.map { Int64($0.key.block) }))
        bindings.append(Int64ArrayParameter(elements: blocks.map { Int64($0.value.count) }))
        for point in [blocks.map(\.value.minimum), blocks.map(\.value.maximum)] {
            bindings.append(Int64ArrayParameter(elements: point.map { $0.map { Int64($0.index) } }))
            bindings.append(Int64ArrayParameter(elements: point.map { $0.map { Int64($0.step) } }))
            bindings.append(DoubleArrayParameter(elements: point.map { $0?.value }))
            bindings.append(Int64ArrayParameter(elements: point.map { $0?.timestamp }))
        }
        bindings.append(Int64ArrayParameter(elements: blocks.map { Int64($0.value.firstIndex) }))
        bindings.append(Int64ArrayParameter(elements: blocks.map { Int64($0.value.lastIndex) }))
    }
}

/// What a batch computed from: a key's series and, when it has points, their count and largest index.
/// `quill_write_metrics` writes nothing unless every key's are the stored ones.
struct MetricKeyCheck: Sendable {
    var key: String
    var series: Int64
    var count: Int64?
    var lastIndex: Int64?
}

/// A batch's points, statistics and blocks written by the function `quill_write_metrics` (migration "v6"): one
/// statement that locks the run's row, checks `checks`, and writes; it answers the run's `updated_at`, or NULL
/// (nothing written) when the run is gone or a checked key differs.
///
/// The points go in as chunks (``MetricChunk``). Unless `merged` (the caller deleted the chunks the points fall
/// among and merged their points into `write`), a stored point at or after a series' first new index fails the
/// statement with a unique violation (``PostgresStore/logBatch(_:_:)`` then writes the batch again, merging):
/// one index probe per series, not per point.
struct WriteMetricsStatement: PostgresPreparedStatement {
    static let name = "quill_batch_write"
    static let sql = "SELECT quill_write_metrics(\((1...40).map { "$\($0)" }.joined(separator: ", ")))"
    static let bindingDataTypes: [PostgresDataType] =
        [.text, .bool, .int8, .textArray, .int8Array, .int8Array, .int8Array]
        + [.int8Array, .int8Array, .float8Array, .int8Array]
        + Array(repeating: .int8Array, count: 8)
        + [.textArray, .int8Array, .int8Array, .float8Array, .int8Array, .int8Array, .float8Array, .float8Array]
        + [.int8Array, .int8Array, .int8Array, .int8Array, .int8Array, .float8Array, .int8Array, .int8Array]
        + [.int8Array, .float8Array, .int8Array, .int8Array, .int8Array]
    typealias Row = Int64?

    var write: MetricWrite
    var merged: Bool
    /// The run's new `updated_at`, or `nil` to leave it.
    var touch: Int64?
    var checks: [MetricKeyCheck] = []

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 40)
        bindings.append(write.run)
        bindings.append(merged)
        bindings.append(touch)
        bindings.append(checks.map(\.key))
        bindings.append(Int64ArrayParameter(elements: checks.map(\.series)))
        bindings.append(Int64ArrayParameter(elements: checks.map(\.count)))
        bindings.append(Int64ArrayParameter(elements: checks.map(\.lastIndex)))
        write.append(to: &bindings)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64?.self) }
}
