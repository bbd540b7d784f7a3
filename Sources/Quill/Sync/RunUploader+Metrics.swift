import Foundation
import QuillCore

extension RunUploader {
    /// Uploads the complete lines of `metrics.jsonl` after the saved offset, transcoded into batches in the
    /// `metrics` shape, saving the offset and the next index after each request.
    ///
    /// A line that is not a JSON object stops the upload there: the lines before it are sent, the offset
    /// stays at its start, and the error names its line, so no point after it is skipped unseen.
    func syncMetrics(_ meta: RunMeta, state: inout SyncState, report: inout Report) throws {
        let path = "/api/v1/runs/\(meta.id)/batch"
        var transcoder = MetricRowTranscoder(capacity: bytesPerRequest + (64 << 10))
        var next = state.metricsNextIndex ?? 0
        var rows = 0
        var end = state.metricsOffset
        func flush() throws {
            guard end != state.metricsOffset else { return }
            if transcoder.points > 0 {
                var body = Array(#"{"metrics":["#.utf8)
                body.reserveCapacity(transcoder.output.count + 16)
                body.append(contentsOf: transcoder.output)
                body.append(contentsOf: "]}".utf8)
                let response = try postBatch(meta, path, body)
                report.pointsWritten += response?["metrics_written"]?.intValue ?? 0
            }
            report.rowsSent += rows
            rows = 0
            transcoder.reset()
            state.metricsOffset = end
            state.metricsNextIndex = next
            try state.save(directory)
        }
        try Self.forEachLines(of: directory.metricsPath, from: state.metricsOffset) { chunk, start in
            var lineStart = chunk.startIndex
            while lineStart < chunk.endIndex {
                let newline = chunk[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? chunk.endIndex
                let line = chunk[lineStart..<newline]
                if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    guard let after = transcoder.append(line: line, next: next) else {
                        try flush()
                        throw Self.malformedLine(directory.metricsPath, at: start + Int64(lineStart - chunk.startIndex))
                    }
                    next = after
                    rows += 1
                }
                lineStart = newline + 1
                end = start + Int64(lineStart - chunk.startIndex)
                if transcoder.points >= pointsPerRequest || transcoder.output.count >= bytesPerRequest {
                    try flush()
                }
            }
        }
        try flush()
    }

    /// Posts a batch; when the server no longer has the run, creates it again and posts once more.
    private func postBatch(_ meta: RunMeta, _ path: String, _ body: [UInt8]) throws -> JSONValue? {
        func send() throws -> BlockingHTTPClient.Response {
            try batchConnection?.post(path, body: body) ?? client.send("POST", path, body: body)
        }
        var response = try send()
        if response.status == 404 {
            try ensureRemoteRun(meta)
            response = try send()
        }
        guard (200..<300).contains(response.status) else {
            if response.status == 404 { identity.runKnown = false }
            throw failure(response, "POST \(path)")
        }
        return response.body
    }

    /// The error for a line of `path` that is not a JSON object, naming its line number.
    static func malformedLine(_ path: String, at offset: Int64) -> QuillError {
        let before = (try? FileIO.read(path)).map { bytes in
            bytes.prefix(Int(min(offset, Int64(bytes.count)))).reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        }
        let line = before.map { "line \($0 + 1)" } ?? "the line at byte \(offset)"
        return QuillError(
            .malformed,
            "\(line) of \(path) is not a JSON object, so the upload stopped there (the lines before it are sent); fix or delete that line, then run `quill sync` again"
        )
    }

    /// Calls `body` with runs of complete lines after `offset` (about 8 MiB at a time, each ending with
    /// its newline) and the file offset of their first byte. An unfinished last line is left for later.
    static func forEachLines(
        of path: String,
        from offset: Int64,
        _ body: (ArraySlice<UInt8>, Int64) throws -> Void
    ) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var position = offset
        var size = 8 << 20
        var buffer = [UInt8](repeating: 0, count: size)
        while true {
            if buffer.count < size { buffer = [UInt8](repeating: 0, count: size) }
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, off_t(position)) }
            if count <= 0 { return }
            guard let lastNewline = buffer[0..<count].lastIndex(of: UInt8(ascii: "\n")) else {
                if count < size { return }  // an unfinished line at the end of the file
                size *= 2  // one line longer than the buffer: read more at once
                continue
            }
            try body(buffer[...lastNewline], position)
            position += Int64(lastNewline + 1)
        }
    }
}
