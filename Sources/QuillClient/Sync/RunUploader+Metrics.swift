import Foundation
import QuillAPI
import QuillCore
import Synchronization

extension RunUploader {
    /// Uploads the complete lines of `metrics.jsonl` after the saved offset, written as batches in the
    /// `rows` shape (``MetricRowsWriter``). Up to ``batchesInFlight`` batches are on their way at once, each
    /// on its own kept-alive connection, so the server decodes one while it stores another, and the next
    /// batch is written meanwhile. The offset and the next index move only past batches that succeeded and
    /// every batch before them; they are saved at most once a second and at the end (a crash sends at most
    /// that second again, which the server ignores: every row carries its `_idx`).
    ///
    /// A line that is not a JSON object stops the upload there: the lines before it are sent, the offset
    /// stays at its start, and the error names its line, so no point after it is skipped unseen.
    func syncMetrics(_ meta: RunMeta, state: inout SyncState, report: inout Report) throws {
        let path = APIPath.runBatch(meta.id.rawValue)
        var writer = MetricRowsWriter(capacity: bytesPerRequest + (64 << 10))
        writer.indexBase = indexBase
        var next = state.metricsNextIndex ?? 0
        var rows = 0
        var end = state.metricsOffset
        var pending: [(batch: PendingBatch, end: Int64, next: Int, rows: Int, sending: Bool)] = []
        var queued = state.metricsOffset
        let firstOffset = state.metricsOffset
        var sent = 0
        var lastSave = ContinuousClock.now
        /// Waits for the oldest request in flight and records what it sent.
        func settleOldest() throws {
            let (batch, batchEnd, batchNext, batchRows, _) = pending.removeFirst()
            let response = try batch.wait()
            let result = response.flatMap { try? APIDecoder().decode(APIBatchResult.self, from: $0) }
            report.pointsWritten += result?.metricsWritten ?? 0
            report.rowsSent += batchRows
            state.metricsOffset = batchEnd
            state.metricsNextIndex = batchNext
        }
        /// Waits for every request in flight; after a failure, for the others too, keeping what succeeded
        /// before it.
        func settleAll(save force: Bool) throws {
            do {
                while !pending.isEmpty { try settleOldest() }
            } catch {
                for entry in pending { _ = try? entry.batch.wait() }
                pending = []
                try? state.save(directory)
                throw error
            }
            if force || ContinuousClock.now - lastSave >= .seconds(1) {
                try state.save(directory)
                lastSave = ContinuousClock.now
            }
        }
        /// Sends the written rows without waiting for the answer, once a request slot is free.
        func flush() throws {
            guard end != queued else { return }
            let batch = PendingBatch()
            let sending = writer.points > 0
            if sending {
                let body = writer.finish()
                while pending.count(where: \.sending) >= max(1, Self.batchesInFlight) {
                    do { try settleOldest() } catch {
                        try settleAll(save: false)
                        throw error
                    }
                }
                if ContinuousClock.now - lastSave >= .seconds(1) {
                    try state.save(directory)
                    lastSave = ContinuousClock.now
                }
                let uploader = self
                let connection = batchConnections.isEmpty ? nil : batchConnections[sent % batchConnections.count]
                sent += 1
                DispatchQueue.global().async {
                    batch.finish(Result { try uploader.postBatch(meta, path, body, on: connection) })
                }
            } else {
                batch.finish(.success(nil))  // blank or metric-less lines only: nothing to send
            }
            pending.append((batch, end, next, rows, sending))
            queued = end
            rows = 0
        }
        try Self.forEachLines(of: directory.metricsPath, from: state.metricsOffset) { chunk, start in
            guard let base = chunk.baseAddress else { return }
            var lineStart = 0
            while lineStart < chunk.count {
                let newline =
                    memchr(base + lineStart, Int32(UInt8(ascii: "\n")), chunk.count - lineStart).map {
                        UnsafeRawPointer($0) - UnsafeRawPointer(base)
                    } ?? chunk.count
                let line = UnsafeBufferPointer(rebasing: chunk[lineStart..<newline])
                if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    guard let after = writer.append(line: line, next: next) else {
                        try flush()
                        try settleAll(save: true)
                        throw Self.malformedLine(directory.metricsPath, at: start + Int64(lineStart))
                    }
                    next = after
                    rows += 1
                }
                lineStart = newline + 1
                end = start + Int64(lineStart)
                if writer.points >= pointsPerRequest || writer.byteCount >= bytesPerRequest {
                    try flush()
                }
            }
        }
        try flush()
        try settleAll(save: end != firstOffset)
    }

    /// Posts a batch; when the server no longer has the run, creates it again and posts once more.
    func postBatch(
        _ meta: RunMeta,
        _ path: String,
        _ body: [UInt8],
        on connection: PlainHTTPConnection?
    ) throws -> JSONValue? {
        func send() throws -> BlockingHTTPClient.Response {
            try connection?.post(path, body: body) ?? client.send("POST", path, body: body)
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
        _ body: (UnsafeBufferPointer<UInt8>, Int64) throws -> Void
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
            try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[...lastNewline]), position) }
            position += Int64(lastNewline + 1)
        }
    }
}

/// A batch request in flight on another thread, and its answer once it came.
final class PendingBatch: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<JSONValue?, any Error>?>(nil)

    func finish(_ outcome: Result<JSONValue?, any Error>) {
        result.withLock { $0 = outcome }
        done.signal()
    }

    /// The server's answer; throws what the request threw.
    func wait() throws -> JSONValue? {
        done.wait()
        return try result.withLock { $0 }?.get()
    }
}
