import Foundation
import QuillAPI
import QuillCore
import QuillStore

extension DTO {
    /// A remote artifact request as the REST API writes it.
    static func remoteArtifact(_ request: RemoteArtifactRequest) -> APIRemoteArtifact {
        APIRemoteArtifact(
            id: request.id,
            runID: request.spec.run.rawValue,
            device: request.spec.device,
            sourcePath: request.spec.sourcePath,
            artifactPath: request.spec.artifactPath,
            transfer: request.spec.transfer,
            status: request.status.rawValue,
            reason: request.reason,
            size: request.size,
            sha256: request.sha256,
            createdAt: request.createdAt,
            updatedAt: request.updatedAt
        )
    }

    /// A run's artifact records with its remote artifact requests folded in, by path: a record a request names
    /// carries that request (the latest for its path); a request without a record yet (waiting, failed, or
    /// recorded without a transfer) is listed by itself, without size or hash, with status `remote` when no
    /// transfer was asked, else `pending` or `failed`.
    static func artifacts(_ records: [StoredArtifact], remote requests: [RemoteArtifactRequest]) -> [APIArtifact] {
        // Without requests the records are listed as the store orders them.
        guard !requests.isEmpty else { return records.map(DTO.artifact) }
        var latest: [String: RemoteArtifactRequest] = [:]
        for request in requests where (latest[request.spec.artifactPath]?.id ?? Int64.min) < request.id {
            latest[request.spec.artifactPath] = request
        }
        var listed = records.map { record in
            var entry = DTO.artifact(record)
            entry.remote = latest.removeValue(forKey: record.path).map(DTO.remoteArtifact)
            return entry
        }
        for request in latest.values {
            let status: String
            switch request.status {
            case .recorded: status = "remote"
            case .failed: status = ArtifactStatus.failed.rawValue
            case .pending, .sending, .done: status = ArtifactStatus.pending.rawValue
            }
            let path = request.spec.artifactPath
            listed.append(
                APIArtifact(
                    runID: request.spec.run.rawValue,
                    path: path,
                    fileName: path.split(separator: "/").last.map(String.init) ?? path,
                    status: status,
                    size: nil,
                    sha256: nil,
                    expectedSize: nil,
                    expectedSHA256: nil,
                    loggedAt: request.createdAt,
                    modifiedAt: request.updatedAt,
                    downloadURL: APIPath.runArtifactContent(request.spec.run.rawValue, path: path),
                    remote: remoteArtifact(request)
                )
            )
        }
        return listed.sorted { $0.path < $1.path }
    }
}
