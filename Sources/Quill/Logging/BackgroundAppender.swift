import Foundation
import QuillCore

/// Appends encoded batches to `metrics.jsonl` on a thread of its own, so the run writer encodes the next
/// batch while the kernel copies the previous one into the page cache.
///
/// At most one batch is in flight: ``submit(_:)`` waits for the previous write to finish, so the caller
/// may reuse the other of its two buffers as soon as `submit` returns.
// @unchecked Sendable: `inFlight`, `failure` and `stopping` are guarded by `lock`; the encoder handed
// over in `submit` is only touched by the appender thread until `inFlight` is cleared.
final class BackgroundAppender: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private let lock = ConditionLock()
    private var inFlight: RowEncoder?
    private var failure: QuillError?
    private var stopping = false
    private var finished = false

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    func start() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "quill-appender"
        thread.start()
    }

    /// Hands a filled buffer over for writing, after the previous one is written.
    ///
    /// - Throws: The error of an earlier write, if one failed.
    func submit(_ encoder: RowEncoder) throws {
        lock.lock()
        defer { lock.unlock() }
        while inFlight != nil && failure == nil { lock.waitForProgress() }
        if let failure { throw failure }
        inFlight = encoder
        lock.signalWork()
    }

    /// Waits until the batch in flight, if any, is written.
    func drain() throws {
        lock.lock()
        defer { lock.unlock() }
        while inFlight != nil && failure == nil { lock.waitForProgress() }
        if let failure { throw failure }
    }

    /// Stops the thread after the batch in flight.
    func stop() {
        lock.lock()
        stopping = true
        lock.signalWork()
        while !finished { lock.waitForProgress() }
        lock.unlock()
    }

    private func loop() {
        lock.lock()
        while true {
            while inFlight == nil && !stopping {
                lock.waitForWork(untilMicroseconds: Timestamp.nowMicroseconds() + 1_000_000)
            }
            guard let encoder = inFlight else { break }
            lock.unlock()
            var writeError: QuillError?
            do {
                try encoder.withBytes { try FileIO.writeAll(fd, $0, path: path) }
            } catch let failure as QuillError {
                writeError = failure
            } catch {
                writeError = QuillError(.io, "writing '\(path)' failed", underlying: error)
            }
            lock.lock()
            if let writeError { failure = writeError }
            inFlight = nil
            lock.broadcastProgress()
        }
        finished = true
        lock.broadcastProgress()
        lock.unlock()
    }
}
