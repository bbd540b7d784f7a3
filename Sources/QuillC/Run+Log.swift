import Quill
import QuillCore

/// The most keys one row may carry.
let maxKeysPerRow = 1 << 20

/// The most values (keys summed over rows) one `quill_log_rows` call may carry: 64 Mi, half a GiB of
/// doubles, far beyond any sensible batch and far below what could overflow.
let maxValuesPerBatch = 1 << 26

/// Why a metric key cannot be logged, or `nil` when it can: the row's own fields and the empty string are
/// refused, since the file could not tell them apart from the row's index, time and step.
@inline(__always)
func keyProblem(_ key: String) -> String? {
    guard let first = key.utf8.first else { return "an empty metric key" }
    // Only keys starting with `s` or `_` can be reserved: the others skip the comparisons.
    guard first == UInt8(ascii: "s") || first == UInt8(ascii: "_") else { return nil }
    if key == "step" || key == "_idx" || key == "_timestamp" {
        return
            "the metric key '\(key)' is reserved for the row's own \(key == "step" ? "step (pass it as the step)" : "field")"
    }
    return nil
}

/// Reads key `index` of a C array of keys.
///
/// - Throws: ``QuillError`` with code `invalid_argument` for a NULL, non-UTF-8, empty or reserved key.
@inline(__always)
func metricKey(_ keys: UnsafePointer<UnsafePointer<CChar>?>, _ index: Int) throws -> String {
    guard let pointer = keys[index] else {
        throw QuillError(.invalidArgument, "keys[\(index)] is NULL; every key must be a UTF-8 string")
    }
    guard let key = String(validatingCString: pointer) else {
        throw QuillError(.invalidArgument, "keys[\(index)] is not valid UTF-8; metric keys must be UTF-8")
    }
    if let problem = keyProblem(key) {
        throw QuillError(.invalidArgument, "keys[\(index)] is \(problem)")
    }
    return key
}

/// A step from the C side, checked against the range every reader keeps exactly.
///
/// - Throws: ``QuillError`` with code `invalid_argument` beyond ±(2^53 − 1).
@inline(__always)
func checkedStep(_ step: Int64) throws -> Int {
    let value = Int(step)
    guard MetricBounds.steps.contains(value) else {
        throw QuillError(
            .invalidArgument,
            "step \(step) is out of range: steps are at most 2^53-1 (9007199254740991) in magnitude, so that every reader and the server keep them exactly"
        )
    }
    return value
}

/// Builds one row's pairs from `count` keys and values, in order; a key given twice keeps its last value
/// (in the place it first appeared).
@inline(__always)
func rowPairs(
    _ keys: UnsafePointer<UnsafePointer<CChar>?>,
    _ values: UnsafePointer<Double>,
    from start: Int,
    count: Int
) throws -> [(key: String, value: Double)] {
    var pairs: [(key: String, value: Double)] = []
    pairs.reserveCapacity(count)
    // Few keys: a linear scan finds a repeat faster than hashing; many keys: an index.
    var positions: [String: Int]? = count > 16 ? Dictionary(minimumCapacity: count) : nil
    for index in start..<(start + count) {
        let key = try metricKey(keys, index)
        let value = values[index]
        if positions != nil {
            if let existing = positions?[key] {
                pairs[existing].value = value
                continue
            }
            positions?[key] = pairs.count
        } else if let existing = pairs.firstIndex(where: { $0.key == key }) {
            pairs[existing].value = value
            continue
        }
        pairs.append((key, value))
    }
    return pairs
}

/// Logs one row of metric values, optionally at a step: the hot path of a training loop.
///
/// The caller passes `count` keys (NUL-terminated UTF-8) and `count` doubles (NaN and infinities are kept),
/// borrowed for the call only; `has_step` non-zero takes `step` (at most 2^53 − 1 in magnitude). A key given
/// twice keeps its last value; `count` 0 logs nothing. The row is queued for the run's writer thread and the
/// call returns without waiting for disk; it takes no lock but the writer's own.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `run_finished` after `quill_finish`,
///   `invalid_argument` for a NULL handle or array, a negative count, a NULL, non-UTF-8, empty or reserved
///   (`step`, `_idx`, `_timestamp`) key, or a step out of range.
@_cdecl("quill_log")
public func quillLog(
    _ run: UnsafeMutableRawPointer?,
    _ keys: UnsafePointer<UnsafePointer<CChar>?>?,
    _ values: UnsafePointer<Double>?,
    _ count: Int32,
    _ step: Int64,
    _ hasStep: Int32,
    _ error: ErrorOut
) -> Int32 {
    do {
        guard run != nil else { return failInvalid(error, nullRunMessage) }
        if count == 0 { return 0 }
        guard count > 0, Int(count) <= maxKeysPerRow else {
            return failInvalid(error, "count must be 0 to \(maxKeysPerRow), not \(count)")
        }
        guard let keys, let values else {
            return failInvalid(error, "keys and values must not be NULL when count is \(count)")
        }
        let stepValue = hasStep != 0 ? try checkedStep(step) : nil
        let pairs = try rowPairs(keys, values, from: 0, count: Int(count))
        try withRun(run) { try $0.log(list: pairs, step: stepValue) }
        return 0
    } catch let failure {
        return fail(error, failure)
    }
}

/// Logs many rows in one call, with params, tags and links (what `Run.logBatch` records, in its order).
///
/// The rows come flattened: row `i` has `counts[i]` keys and values, taken in order from `keys` and
/// `values`; `steps` and `has_step` have `rows` entries (`has_step` NULL: no row has a step; then `steps`
/// may be NULL). `extras_json` is NULL or `{"params":{…},"tags":{"k":"v"},"links":[{"label","url"}]}`.
/// Everything is checked before anything is logged, so a bad argument logs nothing. The caller keeps
/// ownership of every array and string.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `run_finished`, or `invalid_argument` for NULL
///   arrays, negative counts, more than 67,108,864 values in all, a bad key or step, or bad extras.
@_cdecl("quill_log_rows")
public func quillLogRows(
    _ run: UnsafeMutableRawPointer?,
    _ rows: Int32,
    _ counts: UnsafePointer<Int32>?,
    _ keys: UnsafePointer<UnsafePointer<CChar>?>?,
    _ values: UnsafePointer<Double>?,
    _ steps: UnsafePointer<Int64>?,
    _ hasStep: UnsafePointer<UInt8>?,
    _ extrasJSON: UnsafePointer<CChar>?,
    _ error: ErrorOut
) -> Int32 {
    answer(error) {
        guard run != nil else { throw QuillError(.invalidArgument, nullRunMessage) }
        guard rows >= 0, Int(rows) <= maxValuesPerBatch else {
            throw QuillError(.invalidArgument, "rows must be 0 to \(maxValuesPerBatch), not \(rows)")
        }
        var entries: [(step: Int?, list: [(key: String, value: Double)])] = []
        if rows > 0 {
            guard let counts else { throw QuillError(.invalidArgument, "counts is NULL; pass one count per row") }
            if hasStep != nil, steps == nil {
                throw QuillError(.invalidArgument, "steps is NULL but has_step is not; pass both or neither")
            }
            // The total first, checked, so no pointer is read past what the counts promise.
            var total = 0
            for row in 0..<Int(rows) {
                let count = Int(counts[row])
                guard count >= 0 else {
                    throw QuillError(.invalidArgument, "counts[\(row)] is \(count); a row has 0 or more keys")
                }
                let (sum, overflow) = total.addingReportingOverflow(count)
                guard !overflow, sum <= maxValuesPerBatch else {
                    throw QuillError(
                        .invalidArgument,
                        "the rows hold more than \(maxValuesPerBatch) values in all; split the batch into several calls"
                    )
                }
                total = sum
            }
            if total > 0, keys == nil || values == nil {
                throw QuillError(
                    .invalidArgument,
                    "keys and values must not be NULL when the rows hold \(total) values"
                )
            }
            entries.reserveCapacity(Int(rows))
            var start = 0
            for row in 0..<Int(rows) {
                let count = Int(counts[row])
                var step: Int?
                if let hasStep, let steps, hasStep[row] != 0 { step = try checkedStep(steps[row]) }
                var pairs: [(key: String, value: Double)] = []
                if count > 0, let keys, let values {
                    pairs = try rowPairs(keys, values, from: start, count: count)
                }
                entries.append((step, pairs))
                start += count
            }
        }
        let extras = try BatchExtras(extrasJSON)
        // Run.logBatch's order (the rows, then params, tags and links), with the rows built as quill_log builds
        // one: in the caller's order, no dictionary on the way.
        try withRun(run) { run in
            try run.log(rows: entries)
            try run.logBatch(params: extras.params, tags: extras.tags, links: extras.links)
        }
    }
}

/// The params, tags and links of a `quill_log_rows` call.
struct BatchExtras {
    var params: [String: JSONValue] = [:]
    var tags: [String: String] = [:]
    var links: [RunLink] = []

    /// Reads `extras_json`; NULL is no extras.
    ///
    /// - Throws: ``QuillError`` with code `invalid_argument` for bad JSON or fields of the wrong shape.
    init(_ pointer: UnsafePointer<CChar>?) throws {
        guard pointer != nil else { return }
        let request = try Request(pointer, "extras_json", known: ["params", "tags", "links"])
        params = try request.object("params") ?? [:]
        for (key, value) in try request.object("tags") ?? [:] {
            guard !key.isEmpty else { throw QuillError(.invalidArgument, "extras_json.tags has an empty key") }
            switch value {
            case .string(let text): tags[key] = text
            case .null: tags[key] = ""
            default:
                throw QuillError(.invalidArgument, "extras_json.tags.\(key) must be a string (or null for a label tag)")
            }
        }
        for (index, link) in (try request.array("links") ?? []).enumerated() {
            guard let label = link["label"]?.stringValue, let url = link["url"]?.stringValue else {
                throw QuillError(
                    .invalidArgument,
                    "extras_json.links[\(index)] must be an object with string fields label and url"
                )
            }
            links.append(RunLink(label: label, url: url))
        }
    }
}
