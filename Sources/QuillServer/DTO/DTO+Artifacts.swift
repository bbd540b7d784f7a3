import Foundation
import QuillCore
import QuillStore

extension DTO {
    /// An artifact record as the REST API writes it.
    static func artifact(_ artifact: StoredArtifact) -> JSONValue {
        [
            "run_id": .string(artifact.run.rawValue), "path": .string(artifact.path),
            "file_name": .string(artifact.fileName), "status": .string(artifact.status.rawValue),
            // The stored version's size and hash; the announced ones while no version is stored.
            "size": (artifact.size ?? artifact.expectedSize).map { .int(Int($0)) } ?? .null,
            "sha256": (artifact.sha256 ?? artifact.expectedSHA256).map(JSONValue.string) ?? .null,
            "expected_size": artifact.expectedSize.map { .int(Int($0)) } ?? .null,
            "expected_sha256": artifact.expectedSHA256.map(JSONValue.string) ?? .null,
            "logged_at": time(artifact.loggedAt),
            "modified_at": time(artifact.updatedAt),
            "download_url": .string(
                "/api/v1/runs/\(artifact.run.rawValue)/artifacts/content?path=\(queryEncoded(artifact.path))"
            ),
        ]
    }

    /// Text percent-encoded for a query parameter value.
    static func queryEncoded(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
