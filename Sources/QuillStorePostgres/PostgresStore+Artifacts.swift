import Foundation
import Logging
import PostgresNIO
package import QuillCore
package import QuillStore

/// Artifact records (``ArtifactStore``) in the `artifacts` table: one row per (run, path).
///
/// How a record changes is ``ArtifactTransitions``'s, shared with SQLite: each write reads the record (locked
/// for the transaction), asks for the record it becomes, and writes it back. The bytes a namespace's records
/// stop naming go to `released_blobs` by the schema's triggers, so no write path can forget them.
extension PostgresStore {
    /// A fixed key for the advisory lock between blob sweeps (exclusive) and uploads recording their bytes
    /// (shared).
    static let blobCollectionLock: Int64 = 0x5155_494C_4C5F_4243  // "QUILL_BC"

    // MARK: ArtifactStore

    /// Gets or creates the record of an artifact of a run (see ``ArtifactStore/createArtifact(_:)``).
    package func createArtifact(_ request: NewArtifact) async throws -> ArtifactCreation {
        try await transaction { connection in
            try await requireRun(request.run, on: connection)
            let now = Timestamp.date(microseconds: Self.now())
            let created = ArtifactTransitions.created(request, now: now)
            // Two replicas creating one path at once: one inserts, the other waits for it and reads its row.
            let inserted = try await connection.firstRow(
                """
                INSERT INTO artifacts (run_id, path, status, expected_size, expected_sha256, logged_at, updated_at)
                VALUES (\(request.run.rawValue), \(request.path), \(created.status.rawValue), \(created.expectedSize),
                    \(created.expectedSHA256), \(Timestamp.microseconds(created.loggedAt)),
                    \(Timestamp.microseconds(created.updatedAt)))
                ON CONFLICT (run_id, path) DO NOTHING
                RETURNING \(unescaped: Self.artifactColumns)
                """,
                logger: logger,
                Self.decodeArtifact
            )
            if let inserted { return ArtifactCreation(artifact: inserted, created: true) }
            let existing = try await requireArtifact(request.run, request.path, on: connection)
            guard let next = ArtifactTransitions.reannounced(existing, by: request, now: now) else {
                return ArtifactCreation(artifact: existing, created: false)
            }
            return ArtifactCreation(artifact: try await writeArtifact(next, on: connection), created: false)
        }
    }

    /// Records that a new version of an artifact is stored, complete and verified.
    package func markArtifactUploaded(
        _ run: RunID,
        path: String,
        size: Int64,
        sha256: String
    ) async throws -> StoredArtifact {
        try await transaction { connection in
            // Shared with other uploads, exclusive with a sweep (`whileCollectingBlobs`).
            try await connection.query(
                "SELECT pg_advisory_xact_lock_shared(\(Self.blobCollectionLock))",
                logger: logger
            )
            try await requireRun(run, on: connection)
            let existing = try await requireArtifact(run, path, on: connection)
            let now = Timestamp.date(microseconds: Self.now())
            return try await writeArtifact(
                ArtifactTransitions.uploaded(existing, size: size, sha256: sha256, now: now),
                on: connection
            )
        }
    }

    /// Runs a sweep of the blob folder holding ``blobCollectionLock`` exclusively for its transaction (see
    /// ``ArtifactStore/whileCollectingBlobs(_:)``): uploads on every replica wait before recording their bytes,
    /// and a second sweep waits for this one.
    package func whileCollectingBlobs<Result: Sendable>(
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.blobCollectionLock))", logger: logger)
            return try await body()
        }
    }

    /// Records that an upload of an artifact failed.
    package func markArtifactFailed(_ run: RunID, path: String) async throws -> StoredArtifact {
        try await transaction { connection in
            try await requireRun(run, on: connection)
            let existing = try await requireArtifact(run, path, on: connection)
            let now = Timestamp.date(microseconds: Self.now())
            return try await writeArtifact(ArtifactTransitions.failed(existing, now: now), on: connection)
        }
    }

    /// The artifacts of a run, ordered by path (bytewise).
    package func artifacts(_ run: RunID) async throws -> [StoredArtifact] {
        try await withConnection { connection in
            try await requireRun(run, on: connection)
            return try await connection.rows(
                """
                SELECT \(unescaped: Self.artifactColumns) FROM artifacts WHERE run_id = \(run.rawValue) ORDER BY path
                """,
                logger: logger,
                Self.decodeArtifact
            )
        }
    }

    /// One artifact of a run, or `nil`.
    package func artifact(_ run: RunID, path: String) async throws -> StoredArtifact? {
        try await withConnection { connection in
            try await requireRun(run, on: connection)
            return try await fetchArtifact(run, path, locking: false, on: connection)
        }
    }

    /// The bytes a namespace holds: its records' stored versions and the bytes it released, each distinct
    /// content counted once.
    package func artifactBytes(namespace: String) async throws -> Int64 {
        try await withConnection { connection in
            try await connection.values(
                """
                SELECT coalesce(sum(size), 0)::BIGINT FROM (
                    SELECT sha256, max(size) AS size FROM (
                        SELECT a.sha256, a.size FROM artifacts a
                        JOIN runs r ON r.id = a.run_id
                        JOIN projects p ON p.id = r.project_id
                        WHERE p.namespace = \(namespace) AND a.sha256 IS NOT NULL
                        UNION ALL
                        SELECT sha256, size FROM released_blobs WHERE namespace = \(namespace)
                    ) AS held GROUP BY sha256
                ) AS contents
                """,
                of: Int64.self,
                logger: logger
            ).first ?? 0
        }
    }

    /// Every content hash a record names, stored or announced.
    package func referencedContentHashes() async throws -> Set<String> {
        try await withConnection { connection in
            Set(
                try await connection.values(
                    """
                    SELECT sha256 FROM artifacts WHERE sha256 IS NOT NULL
                    UNION SELECT expected_sha256 FROM artifacts WHERE expected_sha256 IS NOT NULL
                    """,
                    of: String.self,
                    logger: logger
                )
            )
        }
    }

    /// Whether some record's stored version has this content hash.
    package func storesContent(sha256: String) async throws -> Bool {
        try await withConnection { connection in
            try await !connection.values(
                "SELECT 1::BIGINT FROM artifacts WHERE sha256 = \(sha256) LIMIT 1",
                of: Int64.self,
                logger: logger
            ).isEmpty
        }
    }

    /// The content hashes released in a namespace (every namespace when `nil`).
    package func releasedContent(namespace: String?) async throws -> Set<String> {
        try await withConnection { connection in
            guard let namespace else {
                return Set(
                    try await connection.values("SELECT sha256 FROM released_blobs", of: String.self, logger: logger)
                )
            }
            return Set(
                try await connection.values(
                    "SELECT sha256 FROM released_blobs WHERE namespace = \(namespace)",
                    of: String.self,
                    logger: logger
                )
            )
        }
    }

    /// Stops counting released bytes of this hash in every namespace.
    package func forgetReleasedContent(sha256: String) async throws {
        try await withConnection { connection in
            _ = try await connection.query("DELETE FROM released_blobs WHERE sha256 = \(sha256)", logger: logger)
        }
    }

    // MARK: Rows

    /// The columns of `artifacts` that ``decodeArtifact(_:)`` reads, in order.
    private static let artifactColumns =
        "run_id, path, status, size, sha256, expected_size, expected_sha256, logged_at, updated_at"

    private static func decodeArtifact(_ row: PostgresRow) throws -> StoredArtifact {
        let (runID, path, status, size, sha256, expectedSize, expectedSHA256, loggedAt, updatedAt) =
            try row.decode((String, String, String, Int64?, String?, Int64?, String?, Int64, Int64).self)
        return try StoredArtifact(
            runID: runID,
            path: path,
            status: status,
            size: size,
            sha256: sha256,
            expectedSize: expectedSize,
            expectedSHA256: expectedSHA256,
            loggedAtMicroseconds: loggedAt,
            updatedAtMicroseconds: updatedAt
        )
    }

    /// Throws ``QuillError/Code/notFound`` when the run does not exist (in the trash or not).
    private func requireRun(_ run: RunID, on connection: PostgresConnection) async throws {
        let found = try await connection.values(
            "SELECT 1::BIGINT FROM runs WHERE id = \(run.rawValue)",
            of: Int64.self,
            logger: logger
        )
        guard !found.isEmpty else { throw TrackingRules.missingRun(run) }
    }

    private func fetchArtifact(
        _ run: RunID,
        _ path: String,
        locking: Bool,
        on connection: PostgresConnection
    ) async throws -> StoredArtifact? {
        try await connection.firstRow(
            """
            SELECT \(unescaped: Self.artifactColumns) FROM artifacts WHERE run_id = \(run.rawValue) AND path = \(path)
            \(unescaped: locking ? "FOR UPDATE" : "")
            """,
            logger: logger,
            Self.decodeArtifact
        )
    }

    /// The record, locked until the transaction ends, or ``ArtifactTransitions/missing(_:path:)``.
    private func requireArtifact(
        _ run: RunID,
        _ path: String,
        on connection: PostgresConnection
    ) async throws -> StoredArtifact {
        guard let artifact = try await fetchArtifact(run, path, locking: true, on: connection) else {
            throw ArtifactTransitions.missing(run, path: path)
        }
        return artifact
    }

    /// Writes every column of a record that exists (an ``ArtifactTransitions`` result) and returns it as stored.
    private func writeArtifact(
        _ artifact: StoredArtifact,
        on connection: PostgresConnection
    ) async throws
        -> StoredArtifact
    {
        let written = try await connection.firstRow(
            """
            UPDATE artifacts SET status = \(artifact.status.rawValue), size = \(artifact.size),
                sha256 = \(artifact.sha256), expected_size = \(artifact.expectedSize),
                expected_sha256 = \(artifact.expectedSHA256), logged_at = \(Timestamp.microseconds(artifact.loggedAt)),
                updated_at = \(Timestamp.microseconds(artifact.updatedAt))
            WHERE run_id = \(artifact.run.rawValue) AND path = \(artifact.path)
            RETURNING \(unescaped: Self.artifactColumns)
            """,
            logger: logger,
            Self.decodeArtifact
        )
        guard let written else { throw ArtifactTransitions.missing(artifact.run, path: artifact.path) }
        return written
    }
}
