import GRDB

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
        migrator.registerMigration("v4: search indexes") { db in
            try SearchIndex.migrate(db)
        }
        return migrator
    }
}
