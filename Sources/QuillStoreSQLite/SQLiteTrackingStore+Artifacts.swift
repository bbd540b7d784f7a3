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
            let now = Timestamp.nowMicroseconds()
            let loggedAt = request.loggedAt.map(Timestamp.microseconds)
            if let existing = try Self.fetchArtifact(db, request.run, request.path) {
                // An announcement replaces the earlier one; none keeps it. Announcing the bytes already stored
                // asks for nothing new. A stored version stays as it is either way.
                let announces = request.expectedSize != nil || request.expectedSHA256 != nil
                var expectedSize = announces ? request.expectedSize : existing.expectedSize
                var expectedSHA256 = announces ? request.expectedSHA256 : existing.expectedSHA256
                if let stored = existing.sha256, expectedSHA256 == stored,
                    expectedSize == nil || expectedSize == existing.size
                {
                    expectedSize = nil
                    expectedSHA256 = nil
                }
                let status: ArtifactStatus = existing.status == .failed ? .pending : existing.status
                if status == existing.status, expectedSize == existing.expectedSize,
                    expectedSHA256 == existing.expectedSHA256
                {
                    return ArtifactCreation(artifact: existing, created: false)
                }
                try db.execute(
                    sql: """
                        UPDATE artifacts SET status = ?, expected_size = ?, expected_sha256 = ?,
                            logged_at = coalesce(?, logged_at), updated_at = ?
                        WHERE run_id = ? AND path = ?
                        """,
                    arguments: [
                        status.rawValue, expectedSize, expectedSHA256, loggedAt, now, request.run.rawValue,
                        request.path,
                    ]
                )
                return ArtifactCreation(
                    artifact: try Self.requireArtifact(db, request.run, request.path),
                    created: false
                )
            }
            try db.execute(
                sql: """
                    INSERT INTO artifacts (run_id, path, status, expected_size, expected_sha256, logged_at, updated_at)
                    VALUES (?, ?, 'pending', ?, ?, ?, ?)
                    """,
                arguments: [
                    request.run.rawValue, request.path, request.expectedSize, request.expectedSHA256,
                    loggedAt ?? now, now,
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
            _ = try Self.requireArtifact(db, run, path)
            try db.execute(
                sql: """
                    UPDATE artifacts SET status = 'uploaded', size = ?, sha256 = ?, expected_size = NULL,
                        expected_sha256 = NULL, updated_at = ?
                    WHERE run_id = ? AND path = ?
                    """,
                arguments: [size, sha256, Timestamp.nowMicroseconds(), run.rawValue, path]
            )
            return try Self.requireArtifact(db, run, path)
        }
    }

    package func markArtifactFailed(_ run: RunID, path: String) async throws -> StoredArtifact {
        try await write { db in
            try Self.requireRun(db, run)
            _ = try Self.requireArtifact(db, run, path)
            // A record with a stored version keeps it: the failure was an attempt at a newer one.
            try db.execute(
                sql: """
                    UPDATE artifacts SET status = CASE WHEN sha256 IS NULL THEN 'failed' ELSE 'uploaded' END,
                        updated_at = ?
                    WHERE run_id = ? AND path = ?
                    """,
                arguments: [Timestamp.nowMicroseconds(), run.rawValue, path]
            )
            return try Self.requireArtifact(db, run, path)
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
            throw QuillError(
                .notFound,
                "run '\(run)' has no artifact '\(path)'; create its record with POST /api/v1/runs/\(run)/artifacts"
            )
        }
        return artifact
    }
}
