import Foundation
import QuillAPI
import QuillCore
import QuillStore

extension DTO {
    /// An artifact record as the REST API writes it.
    static func artifact(_ artifact: StoredArtifact) -> APIArtifact {
        APIArtifact(
            runID: artifact.run.rawValue,
            path: artifact.path,
            fileName: artifact.fileName,
            status: artifact.status.rawValue,
            // The stored version's size and hash; the announced ones while no version is stored.
            size: artifact.size ?? artifact.expectedSize,
            sha256: artifact.sha256 ?? artifact.expectedSHA256,
            expectedSize: artifact.expectedSize,
            expectedSHA256: artifact.expectedSHA256,
            loggedAt: artifact.loggedAt,
            modifiedAt: artifact.updatedAt,
            downloadURL: APIPath.runArtifactContent(artifact.run.rawValue, path: artifact.path)
        )
    }
}
