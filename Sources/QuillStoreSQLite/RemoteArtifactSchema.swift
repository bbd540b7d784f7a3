import GRDB

/// The table of remote artifact requests (migration "v14: remote artifact requests"): one row per file a run
/// asked a device for.
///
/// The schema holds the rules it can: statuses are checked, a finished request has no lease, and a request
/// belongs to its run (deleting the run deletes it). The partial index serves a worker's claim: the requests of
/// one device that are waiting or being sent.
enum RemoteArtifactSchema {
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE remote_artifact_requests (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    device TEXT NOT NULL,
                    source_path TEXT NOT NULL,
                    artifact_path TEXT NOT NULL,
                    transfer INTEGER NOT NULL CHECK (transfer IN (0, 1)),
                    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'done', 'failed', 'recorded')),
                    reason TEXT,
                    size INTEGER CHECK (size IS NULL OR size >= 0),
                    sha256 TEXT,
                    claims INTEGER NOT NULL DEFAULT 0 CHECK (claims >= 0),
                    lease_expires_at INTEGER CHECK (lease_expires_at IS NULL OR status = 'sending'),
                    requested_by TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX remote_artifact_requests_by_run ON remote_artifact_requests (run_id, id);
                CREATE INDEX remote_artifact_requests_waiting ON remote_artifact_requests (device, id)
                    WHERE status IN ('pending', 'sending');
                """
        )
    }
}
