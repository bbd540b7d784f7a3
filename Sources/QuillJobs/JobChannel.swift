import Foundation
package import QuillCore
package import QuillStore

/// How a ``Worker`` talks to its queue: in the same process (``LocalJobChannel``, the workers `quill serve`
/// embeds) or over HTTP (`quill worker --server URL`).
package protocol JobChannel: Sendable {
    /// Registers the worker as a device, online for `lease`.
    func register(_ device: NewDevice, lease: Duration) async throws

    /// Keeps the device online for another `lease`.
    func heartbeat(device: String, lease: Duration) async throws

    /// Marks the device offline.
    func unregister(device: String) async throws

    /// Claims a job, waiting up to `wait` for one (long-poll); `nil` when none came.
    func claim(_ worker: WorkerCapabilities, lease: Duration, wait: Duration) async throws -> JobClaim?

    /// Renews an attempt's lease, recording the SLURM job it runs as when `slurmJobID` names one; throws
    /// `conflict` when the attempt was lost.
    func renew(_ attempt: AttemptRef, lease: Duration, slurmJobID: String?) async throws -> LeaseState

    /// Appends output lines to the attempt's run log.
    func appendOutput(_ attempt: AttemptRef, lines: [String]) async throws

    /// Reports how the attempt ended.
    func finish(_ attempt: AttemptRef, _ result: AttemptResult) async throws

    // Remote artifacts (`Worker+RemoteArtifacts.swift`; the local channel's are in `JobChannel+RemoteArtifacts.swift`).

    /// Claims the device's remote artifact requests, waiting up to `wait` for one (long-poll); empty when none came.
    func claimRemoteArtifacts(device: String, lease: Duration, wait: Duration) async throws -> [RemoteArtifactRequest]

    /// Stores a file as an artifact of a run through the content-addressed artifact upload; its size and SHA-256.
    func uploadArtifact(run: RunID, path: String, file: String) async throws -> (size: Int64, sha256: String)

    /// Reports how a claimed remote artifact request ended.
    func finishRemoteArtifact(_ id: Int64, device: String, _ result: RemoteArtifactResult) async throws
}

/// A channel to a queue in the same process.
package struct LocalJobChannel: JobChannel {
    /// The queue.
    package let queue: JobQueue
    /// Where remote artifacts' bytes go (the server's artifact upload), or `nil` when this worker cannot send any.
    package let artifacts: (any ArtifactFileSink)?

    /// A channel to `queue`.
    package init(queue: JobQueue, artifacts: (any ArtifactFileSink)? = nil) {
        self.queue = queue
        self.artifacts = artifacts
    }

    package func register(_ device: NewDevice, lease: Duration) async throws {
        _ = try await queue.jobs.registerDevice(device, lease: lease, now: .now)
    }

    package func heartbeat(device: String, lease: Duration) async throws {
        _ = try await queue.jobs.deviceHeartbeat(device, lease: lease, now: .now)
    }

    package func unregister(device: String) async throws {
        try await queue.jobs.unregisterDevice(device, now: .now)
    }

    package func claim(_ worker: WorkerCapabilities, lease: Duration, wait: Duration) async throws -> JobClaim? {
        try await queue.claim(worker, lease: lease, wait: wait)
    }

    package func renew(_ attempt: AttemptRef, lease: Duration, slurmJobID: String?) async throws -> LeaseState {
        try await queue.renew(attempt, lease: lease, slurmJobID: slurmJobID)
    }

    package func appendOutput(_ attempt: AttemptRef, lines: [String]) async throws {
        try await queue.appendOutput(attempt, lines: lines)
    }

    package func finish(_ attempt: AttemptRef, _ result: AttemptResult) async throws {
        _ = try await queue.finish(attempt, result)
    }
}
