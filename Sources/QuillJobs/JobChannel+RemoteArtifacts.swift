import Foundation
package import QuillCore
package import QuillStore

/// Where a worker in the server's own process stores the files it sends: the server's artifact upload (the same
/// code as `PUT /api/v1/runs/{id}/artifacts/content`: limits, quota, content-addressed blobs), without HTTP.
package protocol ArtifactFileSink: Sendable {
    /// Stores the file at `file` as the artifact `path` of `run`; its size and SHA-256.
    ///
    /// - Throws: ``QuillCore/QuillError`` as the upload route would answer (too large, over quota, unknown run).
    func storeArtifact(run: RunID, path: String, file: String) async throws -> (size: Int64, sha256: String)
}

extension LocalJobChannel {
    package func claimRemoteArtifacts(
        device: String,
        lease: Duration,
        wait: Duration
    ) async throws -> [RemoteArtifactRequest] {
        try await queue.claimRemoteArtifacts(device: device, lease: lease, limit: 10, wait: wait)
    }

    package func uploadArtifact(run: RunID, path: String, file: String) async throws -> (size: Int64, sha256: String) {
        guard let artifacts else {
            throw QuillError(.unavailable, "this worker has no artifact store to send files to")
        }
        return try await artifacts.storeArtifact(run: run, path: path, file: file)
    }

    package func finishRemoteArtifact(_ id: Int64, device: String, _ result: RemoteArtifactResult) async throws {
        _ = try await queue.finishRemoteArtifact(id, device: device, result)
    }
}
