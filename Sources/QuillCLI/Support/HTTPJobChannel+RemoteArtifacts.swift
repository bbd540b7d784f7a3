import Dispatch
import Foundation
import QuillAPI
import QuillClient
import QuillCore
import QuillJobs
import QuillStore

/// The remote artifact calls of a `quill worker`: the device's long-poll for requests, the artifact upload the
/// SDK's uploader uses (`PUT /api/v1/runs/{id}/artifacts/content`, streamed from disk), and the report.
extension HTTPJobChannel {
    func claimRemoteArtifacts(device: String, lease: Duration, wait: Duration) async throws -> [RemoteArtifactRequest] {
        let body = APIRemoteArtifactClaim(leaseSeconds: Self.seconds(lease), waitSeconds: Self.seconds(wait))
        let json = try await offThread { client in
            try client.call(
                "POST",
                APIPath.device(device, "artifact-requests/claim"),
                json: try APIEncoder().encode(body)
            )
        }
        return try APIDecoder().decode(APIRemoteArtifactList.self, from: json).requests.map(Self.request)
    }

    func uploadArtifact(run: RunID, path: String, file: String) async throws -> (size: Int64, sha256: String) {
        let target = APIPath.runArtifactContent(run.rawValue, path: path)
        let body = try await offThread { client in
            let response = try client.upload("PUT", target, fromFile: file)
            guard response.status == 200 else {
                // The server's own words (too large, over quota) become the request's reason.
                let error = response.body.flatMap { try? APIDecoder().decode(APIErrorBody.self, from: $0) }?.error
                let failure = client.failure(response)
                throw QuillError(failure.code, error?.message ?? failure.message)
            }
            return response.body
        }
        let record = try APIDecoder().decode(APIArtifact.self, from: body ?? .null)
        guard let size = record.size, let sha256 = record.sha256 else {
            throw QuillError(.malformed, "the server stored \(path) but did not say its size and hash")
        }
        return (size, sha256)
    }

    func finishRemoteArtifact(_ id: Int64, device: String, _ result: RemoteArtifactResult) async throws {
        let body: APIRemoteArtifactFinish
        switch result {
        case .done: body = APIRemoteArtifactFinish(status: "done")
        case .failed(let reason): body = APIRemoteArtifactFinish(status: "failed", reason: reason)
        }
        _ = try await offThread { client in
            try client.call(
                "POST",
                APIPath.device(device, "artifact-requests/\(id)/finish"),
                json: try APIEncoder().encode(body)
            )
        }
    }

    /// A blocking client call on a dispatch thread.
    private func offThread<T: Sendable>(_ body: @escaping @Sendable (BlockingHTTPClient) throws -> T) async throws -> T
    {
        let client = client
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body(client) }) }
        }
    }

    /// A request as the API gives it, as the store's value.
    static func request(_ request: APIRemoteArtifact) throws -> RemoteArtifactRequest {
        guard let run = RunID(request.runID) else {
            throw QuillError(
                .malformed,
                "the server sent request \(request.id) with an invalid run id '\(request.runID)'"
            )
        }
        return RemoteArtifactRequest(
            id: request.id,
            spec: NewRemoteArtifact(
                run: run,
                device: request.device,
                sourcePath: request.sourcePath,
                artifactPath: request.artifactPath,
                transfer: request.transfer
            ),
            status: RemoteArtifactStatus(rawValue: request.status) ?? .sending,
            reason: request.reason,
            size: request.size,
            sha256: request.sha256,
            createdAt: request.createdAt,
            updatedAt: request.updatedAt
        )
    }
}
