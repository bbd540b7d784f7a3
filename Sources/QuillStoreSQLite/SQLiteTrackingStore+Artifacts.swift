import Foundation
import GRDB
package import QuillCore
package import QuillStore

/// Artifact records in the `artifacts` table (migrations "v3: artifacts" and "v7: artifact versions and released
/// bytes", see ``ArtifactSchema``): one row per (run, path).
extension SQLiteTrackingStore: ArtifactStore {
    package func createArtifact(_ request: NewArtifact) async throws -> ArtifactCreation {
        try await write { db in
            try Self.requireRun(db, request.run)
            let now = Timestamp.date(microseconds: Timestamp.nowMicroseconds())
            if let existing = try Self.fetchArtifact(db, request.run, request.path) {
                guard let next = ArtifactTransitions.reannounced(existing, by: request, now: now) else {
                    return ArtifactCreation(artifact: existing, created: false)
                }
                return ArtifactCreation(artifact: try Self.writeArtifact(db, next), created: false)
            }
            let created = ArtifactTransitions.created(request, now: now)
            try db.execute(
                sql: """
                    INSERT INTO artifacts (run_id, path, status, expected_size, expected_sha256, logged_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    request.run.rawValue, request.path, created.status.rawValue, created.expectedSize,
                    created.expectedSHA256, Timestamp.microseconds(created.loggedAt),
                    Timestamp.microseconds(created.updatedAt),
                ]
            )
            return ArtifactCreation(artifact: try Self.requireArtifact(db, request.run, request.path), created: true)
        }
    }

    package func markArtifactUploaded(
        _ run: RunID,
        path: String,
        size: Int64,
        sha256: String
    ) async throws -> StoredArtifact {
        try await write { db in
            try Self.requireRun(db, run)
            let existing = try Self.requireArtifact(db, run, path)
            let now = Timestamp.date(microseconds: Timestamp.nowMicroseconds())
            return try Self.writeArtifact(
                db,
                ArtifactTransitions.uploaded(existing, size: size, sha256: sha256, now: now)
            )
        }
    }

    package func markArtifactFailed(_ run: RunID, path: String) async throws -> StoredArtifact {
        try await write { db in
            try Self.requireRun(db, run)
            let existing = try Self.requireArtifact(db, run, path)
            let now = Timestamp.date(microseconds: Timestamp.nowMicroseconds())
            return try Self.writeArtifact(db, ArtifactTransitions.failed(existing, now: now))
        }
    }

    package func artifacts(_ run: RunID) async throws -> [StoredArtifact] {
        try await read { db in
            try Self.requireRun(db, run)
            return try ArtifactRecord.filter(ArtifactRecord.Columns.runID == run.rawValue)
                .order(ArtifactRecord.Columns.path)
                .fetchAll(db)
                .map { try $0.stored() }
        }
    }

    package func artifact(_ run: RunID, path: String) async throws -> StoredArtifact? {
        try await read { db in
            try Self.requireRun(db, run)
            return try Self.fetchArtifact(db, run, path)
        }
    }

    package func artifactBytes(namespace: String) async throws -> Int64 {
        try await read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT coalesce(sum(size), 0) FROM (
                        SELECT sha256, max(size) AS size FROM (
                            SELECT a.sha256, a.size FROM artifacts a
                            JOIN runs r ON r.id = a.run_id
                            JOIN projects p ON p.id = r.project_id
                            WHERE p.namespace = ? AND a.sha256 IS NOT NULL
                            UNION ALL
                            SELECT sha256, size FROM released_blobs WHERE namespace = ?
                        ) GROUP BY sha256
                    )
                    """,
                arguments: [namespace, namespace]
            ) ?? 0
        }
    }

    package func referencedContentHashes() async throws -> Set<String> {
        try await read { db in
            Set(
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT sha256 FROM artifacts WHERE sha256 IS NOT NULL
                        UNION SELECT expected_sha256 FROM artifacts WHERE expected_sha256 IS NOT NULL
                        """
                )
            )
        }
    }

    package func storesContent(sha256: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM artifacts WHERE sha256 = ? LIMIT 1", arguments: [sha256])
                ?? false
        }
    }

    package func releasedContent(namespace: String?) async throws -> Set<String> {
        try await read { db in
            guard let namespace else { return Set(try String.fetchAll(db, sql: "SELECT sha256 FROM released_blobs")) }
            return Set(
                try String.fetchAll(
                    db,
                    sql: "SELECT sha256 FROM released_blobs WHERE namespace = ?",
                    arguments: [namespace]
                )
            )
        }
    }

    package func forgetReleasedContent(sha256: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM released_blobs WHERE sha256 = ?", arguments: [sha256])
        }
    }

    private static func requireRun(_ db: Database, _ run: RunID) throws {
        guard try runExists(db, run) else { throw missing(run) }
    }

    private static func fetchArtifact(_ db: Database, _ run: RunID, _ path: String) throws -> StoredArtifact? {
        try ArtifactRecord.filter(ArtifactRecord.Columns.runID == run.rawValue && ArtifactRecord.Columns.path == path)
            .fetchOne(db)?.stored()
    }

    private static func requireArtifact(_ db: Database, _ run: RunID, _ path: String) throws -> StoredArtifact {
        guard let artifact = try fetchArtifact(db, run, path) else {
            throw ArtifactTransitions.missing(run, path: path)
        }
        return artifact
    }

    /// Writes every column of a record that exists (an ``ArtifactTransitions`` result) and reads it back.
    private static func writeArtifact(_ db: Database, _ artifact: StoredArtifact) throws -> StoredArtifact {
        try db.execute(
            sql: """
                UPDATE artifacts SET status = ?, size = ?, sha256 = ?, expected_size = ?, expected_sha256 = ?,
                    logged_at = ?, updated_at = ?
                WHERE run_id = ? AND path = ?
                """,
            arguments: [
                artifact.status.rawValue, artifact.size, artifact.sha256, artifact.expectedSize,
                artifact.expectedSHA256, Timestamp.microseconds(artifact.loggedAt),
                Timestamp.microseconds(artifact.updatedAt), artifact.run.rawValue, artifact.path,
            ]
        )
        return try requireArtifact(db, artifact.run, artifact.path)
    }
}
