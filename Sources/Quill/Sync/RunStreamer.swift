import Foundation
import QuillCore

/// Streams a run to a server while it is logged: a thread that uploads what the run writer appended,
/// once a second, backing off (up to 30 s) while the server is unreachable.
///
/// The run directory stays the write-ahead log: the training loop never waits for the network, and
/// whatever could not be sent is uploaded later by `quill sync`, without duplicates.
// @unchecked Sendable: `stopping`, `finished` and `lastError` are guarded by `lock`; `uploader` is
// immutable.
final class RunStreamer: @unchecked Sendable {
    private let uploader: RunUploader
    private let runName: String
    private let serverURL: String
    private let lock = ConditionLock()
    private var stopping = false
    private var finished = false
    private var lastError: String?
    private var complete = false

    init(directory: RunDirectory, runName: String, serverURL: String, apiKey: String?) {
        self.uploader = RunUploader(directory: directory, serverURL: serverURL, apiKey: apiKey, timeout: 10)
        self.runName = runName
        self.serverURL = serverURL
    }

    func start() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "quill-streamer"
        thread.start()
    }

    /// Makes a last upload (the final status included), waiting at most `timeout`, then stops.
    ///
    /// - Returns: `nil` when the server has everything, else why not.
    @discardableResult
    func finish(timeout: Duration = .seconds(5)) -> String? {
        let parts = timeout.components
        let deadline = Timestamp.nowMicroseconds() + parts.seconds * 1_000_000 + parts.attoseconds / 1_000_000_000_000
        lock.lock()
        stopping = true
        lock.signalWork()
        while !finished && Timestamp.nowMicroseconds() < deadline {
            lock.waitForProgressOrDeadline(untilMicroseconds: deadline)
        }
        let result = complete ? nil : (lastError ?? "the upload did not finish in time")
        lock.unlock()
        if let result {
            FileHandle.standardError.write(
                Data(
                    "quill: run \(runName) is not fully uploaded to \(serverURL) (\(result)); it is safe on disk: upload it later with `quill sync \(runName)`\n"
                        .utf8
                )
            )
        }
        return result
    }

    private func loop() {
        var backoff: Int64 = 1_000_000
        var delay: Int64 = 0
        while true {
            lock.lock()
            if !stopping && delay > 0 {
                lock.waitForWork(untilMicroseconds: Timestamp.nowMicroseconds() + delay)
            }
            let stop = stopping
            lock.unlock()
            do {
                let report = try uploader.syncOnce()
                lock.lock()
                lastError = nil
                complete = report.complete
                lock.unlock()
                backoff = 1_000_000
                delay = 1_000_000
                if stop { break }
            } catch {
                lock.lock()
                lastError = String(describing: error)
                lock.unlock()
                delay = backoff
                backoff = min(backoff * 2, 30_000_000)
                if stop {
                    // One more try after a short pause, then leave the rest to `quill sync`.
                    lock.lock()
                    let waited = finished
                    lock.unlock()
                    if waited { break }
                    delay = 500_000
                    Thread.sleep(forTimeInterval: 0.5)
                    if (try? uploader.syncOnce())?.complete == true {
                        lock.lock()
                        complete = true
                        lastError = nil
                        lock.unlock()
                    }
                    break
                }
            }
        }
        lock.lock()
        finished = true
        lock.broadcastProgress()
        lock.unlock()
    }
}
