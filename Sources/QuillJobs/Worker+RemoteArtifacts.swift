import Foundation
import Logging
import QuillCore
import QuillStore
import ServiceLifecycle

/// A worker's second loop: it long-polls for the remote artifact requests of its device and sends each file it
/// shares (``SharedDirectories``: the `--share` folders, and the asking run's own directory in its runs folder) as an artifact of the asking run, through the channel's artifact upload; every
/// request ends `done` or `failed` with a one-line reason (not shared, missing, not a regular file, refused by
/// the server). A request whose worker stops or dies mid-transfer is handed out again after its lease.
struct RemoteArtifactSender: Sendable {
    let configuration: WorkerConfiguration
    let channel: any JobChannel
    let logger: Logger
    let shared: SharedDirectories

    init(configuration: WorkerConfiguration, channel: any JobChannel, logger: Logger) {
        self.configuration = configuration
        self.channel = channel
        self.logger = logger
        shared = SharedDirectories(configuration.sharedDirectories, runsDirectory: configuration.runsDirectory)
    }

    private var device: String { configuration.device.name }

    /// Sends files until `isStopping` holds (a graceful shutdown) or the task is cancelled.
    func run(isStopping: @escaping @Sendable () -> Bool) async {
        var delay: Duration = .milliseconds(200)
        var warned = false
        while !isStopping(), !Task.isCancelled {
            let requests: [RemoteArtifactRequest]
            do {
                requests = try await cancelWhenGracefulShutdown {
                    try await channel.claimRemoteArtifacts(
                        device: device,
                        lease: configuration.remoteArtifactLease,
                        wait: configuration.claimWait
                    )
                }
                delay = .milliseconds(200)
                warned = false
            } catch {
                if isStopping() || Task.isCancelled { return }
                // Said once per outage; a server without remote artifacts answers 404 every time.
                if !warned {
                    logger.warning(
                        "asking for remote artifact requests failed; retrying",
                        metadata: ["error": "\(error)"]
                    )
                    warned = true
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
                continue
            }
            for request in requests {
                await send(request)
            }
        }
    }

    /// Sends one request's file and reports the outcome.
    func send(_ request: RemoteArtifactRequest) async {
        let metadata: Logger.Metadata = [
            "quill.run.id": "\(request.spec.run)", "quill.remote_artifact.id": "\(request.id)",
            "quill.remote_artifact.path": "\(request.spec.sourcePath)",
        ]
        let result: RemoteArtifactResult
        do {
            let file = try shared.file(request.spec.sourcePath, device: device, run: request.spec.run.rawValue)
            let stored = try await channel.uploadArtifact(
                run: request.spec.run,
                path: request.spec.artifactPath,
                file: file
            )
            result = .done(size: stored.size, sha256: stored.sha256)
            logger.info("remote artifact sent", metadata: metadata)
        } catch let error as QuillError {
            result = .failed(reason: error.message)
            logger.info("remote artifact refused", metadata: metadata.merging(["error": "\(error.message)"]) { $1 })
        } catch {
            result = .failed(reason: "the worker could not send \(request.spec.sourcePath): \(error)")
            logger.warning("remote artifact failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
        for attempt in 0..<5 {
            do {
                try await channel.finishRemoteArtifact(request.id, device: device, result)
                return
            } catch let error as QuillError where error.code == .conflict || error.code == .notFound {
                // Handed out again (this worker was too slow) or its run was deleted: nothing to report.
                return
            } catch {
                // Unreported, the request goes back to pending when its lease ends.
                if attempt == 4 {
                    logger.warning("reporting a remote artifact failed", metadata: ["error": "\(error)"])
                    return
                }
                await AttemptMonitor.sleep(.milliseconds(500))
            }
        }
    }
}
