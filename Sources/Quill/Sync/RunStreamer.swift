import Foundation
import QuillClient
import QuillCore
import Synchronization

/// Streams a run to a server while it is logged: a thread that uploads what the run writer appended,
/// once a second, backing off (up to 30 s) while the server is unreachable.
///
/// The run directory stays the write-ahead log: the training loop never waits for the network, and
/// whatever could not be sent is uploaded later by `quill sync`, without duplicates.
// @unchecked Sendable: `status` and `running` are Mutexes; `backoff` is touched only by the loop's thread;
// `uploader` is immutable.
final class RunStreamer: @unchecked Sendable {
    private struct Status {
        var lastError: String?
        var complete = false
    }

    private let uploader: RunUploader
    private let runName: String
    /// The server and the API key it streams with (also what ``Run/logArtifact(remote:device:name:transfer:)`` asks).
    let serverURL: String
    let apiKey: String?
    private let status = Mutex(Status())
    private let running = Mutex<BackgroundLoop?>(nil)
    private var backoff: Duration = .seconds(1)

    init(directory: RunDirectory, runName: String, serverURL: String, apiKey: String?) {
        self.uploader = RunUploader(directory: directory, serverURL: serverURL, apiKey: apiKey, timeout: 10)
        self.runName = runName
        self.serverURL = serverURL
        self.apiKey = apiKey
    }

    func start() {
        let loop = BackgroundLoop.start(name: "quill-streamer") { [self] stopping in upload(stopping: stopping) }
        running.withLock { $0 = loop }
    }

    /// Makes a last upload (the final status included), waiting at most `timeout`, then stops.
    ///
    /// - Returns: `nil` when the server has everything, else why not.
    @discardableResult
    func finish(timeout: Duration = .seconds(5)) -> String? {
        if let loop = running.withLock({ $0 }) {
            loop.stop()
            loop.join(timeout: timeout)
        }
        let result = status.withLock { $0.complete ? nil : ($0.lastError ?? "the upload did not finish in time") }
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

    /// One upload: every second while it works, backing off up to 30 s while it fails; on the last run
    /// (`stopping`) one more try after a short pause, then the rest is left to `quill sync`.
    private func upload(stopping: Bool) -> Duration? {
        do {
            let report = try uploader.syncOnce()
            status.withLock { $0 = Status(lastError: nil, complete: report.complete) }
            backoff = .seconds(1)
            return stopping ? nil : .seconds(1)
        } catch {
            status.withLock { $0.lastError = String(describing: error) }
            if stopping {
                Thread.sleep(forTimeInterval: 0.5)
                if (try? uploader.syncOnce())?.complete == true {
                    status.withLock { $0 = Status(lastError: nil, complete: true) }
                }
                return nil
            }
            let delay = backoff
            backoff = min(backoff * 2, .seconds(30))
            return delay
        }
    }
}
