import GRDB
import QuillStore

/// The SQLite schema, as named, ordered migrations.
///
/// Times are microseconds since the epoch (INTEGER); JSON values are TEXT written by Quill's writer; a
/// NaN metric value is NULL (SQLite has no NaN), infinities are stored as they are.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: projects, runs, logged data") { db in
            try db.execute(
                sql: """
                    CREATE TABLE projects (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        namespace TEXT NOT NULL,
                        slug TEXT NOT NULL,
                        display_name TEXT NOT NULL,
                        visibility TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'internal', 'public')),
                        created_at INTEGER NOT NULL,
                        UNIQUE (namespace, slug)
                    );
                    CREATE TABLE runs (
                        id TEXT PRIMARY KEY NOT NULL,
                        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        description TEXT,
                        kind TEXT NOT NULL,
                        parent_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
                        status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'crashed', 'killed')),
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        started_at INTEGER NOT NULL,
                        ended_at INTEGER,
                        user TEXT,
                        host TEXT,
                        git TEXT,
                        environment TEXT,
                        config TEXT NOT NULL DEFAULT '{}',
                        summary TEXT NOT NULL DEFAULT '{}',
                        UNIQUE (project_id, name)
                    );
                    CREATE INDEX runs_by_project_start ON runs (project_id, started_at DESC, id DESC);
                    CREATE INDEX runs_by_parent ON runs (parent_id);
                    CREATE TABLE params (
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        key TEXT NOT NULL,
                        value TEXT NOT NULL,
                        PRIMARY KEY (run_id, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE tags (
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        key TEXT NOT NULL,
                        value TEXT NOT NULL,
                        PRIMARY KEY (run_id, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE links (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        label TEXT NOT NULL,
                        url TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        UNIQUE (run_id, label, url)
                    );
                    CREATE TABLE metrics (
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        key TEXT NOT NULL,
                        idx INTEGER NOT NULL,
                        step INTEGER NOT NULL,
                        value REAL,
                        ts INTEGER NOT NULL,
                        PRIMARY KEY (run_id, key, idx)
                    ) WITHOUT ROWID;
                    CREATE INDEX metrics_by_step ON metrics (run_id, key, step);
                    CREATE TABLE metric_stats (
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        key TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        last_idx INTEGER NOT NULL,
                        last_value REAL,
                        last_step INTEGER,
                        max_step INTEGER NOT NULL,
                        min_value REAL,
                        max_value REAL,
                        PRIMARY KEY (run_id, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE logs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        ts INTEGER,
                        level TEXT,
                        message TEXT NOT NULL
                    );
                    CREATE INDEX logs_by_run ON logs (run_id, id);
                    """
            )
        }
        migrator.registerMigration("v2: accounts") { db in
            try db.execute(
                sql: """
                    ALTER TABLE projects ADD COLUMN created_by TEXT;
                    CREATE TABLE users (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        is_admin INTEGER NOT NULL DEFAULT 0,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE organizations (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE memberships (
                        organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                        role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
                        PRIMARY KEY (organization_id, user_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX memberships_by_user ON memberships (user_id);
                    CREATE TABLE api_keys (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                        label TEXT NOT NULL,
                        prefix TEXT NOT NULL,
                        hash TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    CREATE INDEX api_keys_by_user ON api_keys (user_id);
                    """
            )
        }
        migrator.registerMigration("v3: artifacts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE artifacts (
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        path TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('pending', 'uploaded', 'failed')),
                        size INTEGER CHECK (size >= 0),
                        sha256 TEXT CHECK (sha256 IS NULL OR length(sha256) = 64),
                        logged_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (run_id, path),
                        CHECK (status <> 'uploaded' OR (size IS NOT NULL AND sha256 IS NOT NULL))
                    ) WITHOUT ROWID;
                    CREATE INDEX artifacts_by_sha256 ON artifacts (sha256);
                    """
            )
        }
        migrator.registerMigration("v4: search indexes") { db in
            try SearchIndex.migrate(db)
        }
        migrator.registerMigration("v5: metric blocks") { db in
            // One row per block of `MetricBlock.size` (256) consecutive indexes of a metric: block = idx / 256.
            // The *_idx/_step/_value/_ts columns hold the block's smallest and largest non-NaN point (NULL when
            // every value of the block is NaN). Kept current by logBatch in the same transaction.
            try db.execute(
                sql: """
                    CREATE TABLE metric_blocks (
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        key TEXT NOT NULL,
                        block INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        min_idx INTEGER,
                        min_step INTEGER,
                        min_value REAL,
                        min_ts INTEGER,
                        max_idx INTEGER,
                        max_step INTEGER,
                        max_value REAL,
                        max_ts INTEGER,
                        first_idx INTEGER NOT NULL,
                        last_idx INTEGER NOT NULL,
                        PRIMARY KEY (run_id, key, block)
                    ) WITHOUT ROWID;
                    """
            )
            try MetricBlock.backfill(db)
        }
        migrator.registerMigration("v6: every namespace holding projects has an owner") { db in
            // Before this, projects made in single-user mode (namespace `local`) or by an administrator in a
            // namespace nobody owned could be claimed by whoever created an organization of that name. A
            // database that already has users hands those namespaces to its first administrator, as
            // creating the first user now does.
            let first = try UserRecord.order(UserRecord.Columns.isAdmin.desc, UserRecord.Columns.id).fetchOne(db)
            if let first, let id = first.id {
                try SQLiteTrackingStore.handOverOwnerlessNamespaces(db, userID: id, userName: first.name)
            }
        }
        migrator.registerMigration("v7: artifact versions and released bytes") { db in
            try ArtifactSchema.migrate(db)
        }
        migrator.registerMigration("v8: server identity") { db in
            // One row: the store's random id, made once (see `serverID()`).
            try db.execute(
                sql: """
                    CREATE TABLE server_identity (id TEXT NOT NULL);
                    INSERT INTO server_identity (id) VALUES (lower(hex(randomblob(16))));
                    """
            )
        }
        migrator.registerMigration("v9: users and organizations share one space of names") { db in
            try AccountNames.migrate(db)
        }
        migrator.registerMigration("v10: dashboard sessions") { db in
            try SessionSchema.migrate(db)
        }
        migrator.registerMigration("v11: the query language's parent field in the search index") { db in
            for id in try String.fetchAll(db, sql: "SELECT id FROM runs WHERE parent_id IS NOT NULL") {
                try SearchIndex.refresh(db, runID: id)
            }
        }
        migrator.registerMigration("v12: metric points keyed by series") { db in
            try MetricSeriesSchema.migrate(db)
        }
        migrator.registerMigration("v13: jobs") { db in
            try JobSchema.migrate(db)
        }
        migrator.registerMigration("v14: remote artifact requests") { db in
            try RemoteArtifactSchema.migrate(db)
        }
        migrator.registerMigration("v15: queued runs") { db in
            try QueuedRunSchema.migrate(db)
        }
        migrator.registerMigration("v16: project tags and the trash") { db in
            try LifecycleSchema.migrate(db)
        }
        migrator.registerMigration("v17: preempted job attempts") { db in
            try PreemptedAttemptSchema.migrate(db)
        }
        migrator.registerMigration("v18: the SLURM job of a job attempt") { db in
            // Issue 16: the SLURM job an attempt was submitted as (`123`, `123_4` for an array task).
            try db.execute(sql: "ALTER TABLE job_attempts ADD COLUMN slurm_job_id TEXT")
        }
        return migrator
    }
}

extension SQLiteTrackingStore {
    /// Makes a database at `path` with the schema as it was after the migration named `identifier`, and no
    /// later one: for tests that fill an older database and check that opening it converts it. Stores are
    /// opened with ``init(path:durability:busyTimeout:)``, which applies every migration.
    ///
    /// - Throws: A database error, or an error when no migration has that name.
    package static func createDatabase(path: String, migratedUpTo identifier: String) throws {
        let queue = try DatabaseQueue(path: path)
        try Migrations.migrator.migrate(queue, upTo: identifier)
        try queue.close()
    }
}
