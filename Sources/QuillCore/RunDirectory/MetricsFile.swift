import Foundation

/// Reading and appending `metrics.jsonl`.
///
/// Each line is one object: `_idx` (increasing from 0), `_timestamp` (UTC ISO 8601), an optional `step`,
/// then the metric keys. Appenders hold the run's lock, find the last index from the file's tail and
/// continue from it, so several processes (a `quill run` child, `quill log` in a shell script, a resumed
/// program) can log into one run without repeating an index.
package enum MetricsFile {
    /// The keys of a row that are not metrics.
    package static let reservedKeys: Set<String> = ["_idx", "_timestamp", "step"]

    /// Where an incremental reader of `metrics.jsonl` stopped: the byte after the last complete line it read,
    /// and the index the next row without `_idx` gets.
    package struct Position: Sendable, Hashable {
        /// The byte offset of the first line not read yet.
        package var offset: Int64 = 0
        /// The index the next row without `_idx` gets (the previous row's plus one).
        package var nextIndex = 0

        /// The start of the file.
        package init() {}
    }

    /// Reads every row. Values that are not numbers (or the non-finite strings) are ignored.
    package static func read(_ path: String) throws -> (rows: [MetricRow], diagnostics: ReadDiagnostics) {
        var diagnostics = ReadDiagnostics()
        guard let bytes = try FileIO.read(path) else { return ([], diagnostics) }
        var fallbackIndex = 0
        let rows = parse(bytes, fallbackIndex: &fallbackIndex, diagnostics: &diagnostics)
        return (rows, diagnostics)
    }

    /// Reads the complete lines appended after `position`, as ``read(_:)`` reads them (a row without `_idx`
    /// numbered after the previous row), and the position after them. An unfinished last line is left for
    /// the next call, so a file that grows is read once, in pieces.
    package static func read(
        _ path: String,
        after position: Position
    ) throws -> (rows: [MetricRow], diagnostics: ReadDiagnostics, position: Position) {
        var diagnostics = ReadDiagnostics()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return ([], diagnostics, position) }
            throw QuillError.posix("opening", path: path, errno: errno)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var offset = position.offset
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if count < 0 { throw QuillError.posix("reading", path: path, errno: errno) }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            offset += Int64(count)
        }
        guard let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return ([], diagnostics, position) }
        bytes.removeSubrange((lastNewline + 1)...)
        var next = position
        let rows = parse(bytes, fallbackIndex: &next.nextIndex, diagnostics: &diagnostics)
        next.offset = position.offset + Int64(bytes.count)
        return (rows, diagnostics, next)
    }

    /// Parses JSON lines into rows, numbering a row without `_idx` with `fallbackIndex` and moving it past
    /// each row.
    private static func parse(
        _ bytes: [UInt8],
        fallbackIndex: inout Int,
        diagnostics: inout ReadDiagnostics
    ) -> [MetricRow] {
        var rows: [MetricRow] = []
        JSONLines.forEachObject(in: bytes, diagnostics: &diagnostics) { members in
            var values: [String: Double] = [:]
            values.reserveCapacity(members.count)
            for (key, value) in members where !reservedKeys.contains(key) {
                if let number = value.doubleValue { values[key] = number }
            }
            let index = members["_idx"]?.intValue ?? fallbackIndex
            // A hand-written `_idx` may be the largest integer: no overflow, the next row keeps it.
            let (next, overflow) = index.addingReportingOverflow(1)
            fallbackIndex = overflow ? index : next
            let time = members["_timestamp"]?.stringValue.flatMap(Timestamp.parse) ?? Date(timeIntervalSince1970: 0)
            rows.append(MetricRow(index: index, timestamp: time, step: members["step"]?.intValue, values: values))
        }
        return rows
    }

    /// Prepares an open `metrics.jsonl` for appending and returns the next `_idx`.
    ///
    /// When the file ends in a partial line (the previous writer died mid-write), the partial line is cut
    /// off, because no reader ever counted it. Call with the run's lock held.
    package static func prepareForAppend(fd: Int32, path: String) throws -> Int {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return 0 }
        var windowSize: Int64 = 4096
        while true {
            let start = max(0, Int64(size) - windowSize)
            var tail = [UInt8](repeating: 0, count: Int(Int64(size) - start))
            let count = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
            guard count == tail.count else { throw QuillError.posix("reading", path: path, errno: errno) }
            // Cut a partial last line.
            var end = tail.count
            if tail[end - 1] != UInt8(ascii: "\n") {
                if let newline = tail.lastIndex(of: UInt8(ascii: "\n")) {
                    end = newline + 1
                } else if start > 0 {
                    windowSize *= 4
                    continue
                } else {
                    end = 0
                }
                guard ftruncate(fd, off_t(start) + off_t(end)) == 0 else {
                    throw QuillError.posix("repairing", path: path, errno: errno)
                }
            }
            // Find the last complete line with an _idx.
            var lineEnd = end
            while lineEnd > 0 {
                var lineStart = lineEnd - 1
                while lineStart > 0, tail[lineStart - 1] != UInt8(ascii: "\n") { lineStart -= 1 }
                if lineStart == 0, start > 0 {
                    break  // The line may begin before the window: widen it.
                }
                let line = Array(tail[lineStart..<(lineEnd - 1)])
                if let value = try? JSONParser.parse(line), let index = value["_idx"]?.intValue {
                    let (next, overflow) = index.addingReportingOverflow(1)
                    guard !overflow else {
                        throw QuillError(
                            .malformed,
                            "the last _idx in \(path) is \(index), so no row can follow it; fix or remove that line"
                        )
                    }
                    return next
                }
                lineEnd = lineStart
            }
            if start == 0 {
                return try countLines(fd: fd, path: path)
            }
            windowSize *= 4
        }
    }

    /// The number of newline-terminated lines, used as the next index when no line carries an `_idx`.
    private static func countLines(fd: Int32, path: String) throws -> Int {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        var lines = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 { throw QuillError.posix("reading", path: path, errno: errno) }
            if count == 0 { return lines }
            lines += buffer[0..<count].reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            offset += off_t(count)
        }
    }

    /// Appends rows to a run's `metrics.jsonl` under the run's lock, numbering them after the last row.
    ///
    /// Used by `quill log` and any one-shot writer; the SDK's background writer keeps the file open instead.
    /// - Returns: The index of the first appended row.
    @discardableResult
    package static func appendLocked(
        directory: RunDirectory,
        rows: [(step: Int?, values: [String: Double])]
    ) throws -> Int {
        try FileIO.withLock(directory.lockPath) {
            let path = directory.metricsPath
            let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw QuillError.posix("opening", path: path, errno: errno) }
            defer { close(fd) }
            let first = try prepareForAppend(fd: fd, path: path)
            let encoder = RowEncoder(capacity: 4096)
            let now = Timestamp.nowMicroseconds()
            for (offset, row) in rows.enumerated() {
                encoder.appendRow(index: first + offset, microseconds: now, step: row.step, values: row.values)
            }
            try encoder.withBytes { try FileIO.writeAll(fd, $0, path: path) }
            return first
        }
    }
}
