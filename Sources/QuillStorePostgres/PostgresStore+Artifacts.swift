import Foundation
package import QuillCore
package import QuillStore

// Not yet on PostgreSQL: every method of this file throws until its helper writes it (issue 15).
extension PostgresStore {
    // MARK: ArtifactStore

    /// Not yet on PostgreSQL.
    package func createArtifact(_ artifact: NewArtifact) async throws -> ArtifactCreation {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func markArtifactUploaded(
        _ run: RunID,
        path: String,
        size: Int64,
        sha256: String
    ) async throws -> StoredArtifact {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func markArtifactFailed(_ run: RunID, path: String) async throws -> StoredArtifact {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func artifacts(_ run: RunID) async throws -> [StoredArtifact] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func artifact(_ run: RunID, path: String) async throws -> StoredArtifact? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func artifactBytes(namespace: String) async throws -> Int64 {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func referencedContentHashes() async throws -> Set<String> {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func storesContent(sha256: String) async throws -> Bool {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func releasedContent(namespace: String?) async throws -> Set<String> {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func forgetReleasedContent(sha256: String) async throws {
        throw Self.notYet
    }

}
