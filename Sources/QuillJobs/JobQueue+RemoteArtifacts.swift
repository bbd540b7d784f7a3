import Foundation
import QuillCore
package import QuillStore

/// Remote artifacts: a run asks a device for a file; the device's worker long-polls for such requests, sends the
/// file as an artifact of the run, and reports how it went (see ``QuillStore/RemoteArtifactStore``).
extension JobQueue {
    /// The longest a worker may hold a claimed request without reporting, and the default.
    package static let remoteArtifactLease: Duration = .seconds(600)

    /// Records a request and, when it asks for a transfer, wakes the workers waiting for requests.
    package func requestRemoteArtifact(_ request: NewRemoteArtifact) async throws -> RemoteArtifactRequest {
        let stored = try await jobs.requestRemoteArtifact(request, now: Date())
        if request.transfer { remoteArtifactSignal.changed() }
        return stored
    }

    /// Claims a device's requests, waiting up to `wait` for one when none is waiting (long-poll); empty when
    /// none came.
    package func claimRemoteArtifacts(
        device: String,
        lease: Duration,
        limit: Int,
        wait: Duration
    ) async throws -> [RemoteArtifactRequest] {
        let deadline = ContinuousClock.now + wait
        while true {
            let seen = remoteArtifactSignal.version
            let claimed = try await jobs.claimRemoteArtifacts(device: device, lease: lease, limit: limit, now: Date())
            if !claimed.isEmpty { return claimed }
            let left = deadline - ContinuousClock.now
            guard left > .zero, !Task.isCancelled else { return [] }
            await remoteArtifactSignal.wait(since: seen, timeout: left)
        }
    }

    /// Ends a claimed request as its worker reports it.
    package func finishRemoteArtifact(
        _ id: Int64,
        device: String,
        _ result: RemoteArtifactResult
    ) async throws -> RemoteArtifactRequest {
        try await jobs.finishRemoteArtifact(id, device: device, result, now: Date())
    }
}
