import GRDB

/// The artifact tables after migration "v7: artifact versions and released bytes".
///
/// - `artifacts.size`/`sha256` name the stored, verified bytes of a record and nothing else (NULL while no
///   version is stored); `expected_size`/`expected_sha256` hold what the client announced for the next
///   upload, kept across failed attempts until an upload matches them or a new announcement replaces them.
/// - `released_blobs` remembers, per namespace, the bytes its records stopped naming (a version replaced,
///   a run deleted) until they are gone from disk: the namespace's quota counts them, so bytes on disk
///   never outgrow it. Triggers fill it, so no write path can forget to.
enum ArtifactSchema {
    /// The current time in microseconds since the epoch, in SQL.
    private static let nowSQL = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"

    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE artifacts ADD COLUMN expected_size INTEGER
                    CHECK (expected_size IS NULL OR expected_size >= 0);
                ALTER TABLE artifacts ADD COLUMN expected_sha256 TEXT
                    CHECK (expected_sha256 IS NULL OR length(expected_sha256) = 64);
                UPDATE artifacts SET expected_size = size, expected_sha256 = sha256, size = NULL, sha256 = NULL
                    WHERE status <> 'uploaded';
                CREATE TABLE released_blobs (
                    namespace TEXT NOT NULL,
                    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                    size INTEGER NOT NULL CHECK (size >= 0),
                    released_at INTEGER NOT NULL,
                    PRIMARY KEY (namespace, sha256)
                ) WITHOUT ROWID;
                CREATE INDEX released_blobs_by_sha256 ON released_blobs (sha256);
                CREATE TRIGGER artifacts_release_replaced AFTER UPDATE OF sha256 ON artifacts
                WHEN old.sha256 IS NOT NULL AND (new.sha256 IS NULL OR new.sha256 <> old.sha256)
                BEGIN
                    INSERT OR IGNORE INTO released_blobs (namespace, sha256, size, released_at)
                    SELECT p.namespace, old.sha256, old.size, \(nowSQL)
                    FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id = old.run_id;
                END;
                CREATE TRIGGER runs_release_artifacts BEFORE DELETE ON runs
                BEGIN
                    INSERT OR IGNORE INTO released_blobs (namespace, sha256, size, released_at)
                    SELECT p.namespace, a.sha256, a.size, \(nowSQL)
                    FROM artifacts a JOIN projects p ON p.id = old.project_id
                    WHERE a.run_id = old.id AND a.sha256 IS NOT NULL;
                END;
                CREATE TRIGGER artifacts_release_deleted AFTER DELETE ON artifacts
                WHEN old.sha256 IS NOT NULL
                BEGIN
                    INSERT OR IGNORE INTO released_blobs (namespace, sha256, size, released_at)
                    SELECT p.namespace, old.sha256, old.size, \(nowSQL)
                    FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id = old.run_id;
                END;
                """
        )
    }
}
