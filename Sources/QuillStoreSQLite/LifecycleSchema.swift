import GRDB

/// Migration "v16: project tags and the trash": projects get tags, a last-change time and a trash; runs get a
/// trash.
///
/// - `project_tags`: one row per tag of a project, keyed `(project_id, key)`, going with its project. A
///   project's tags are read with one index range (one query for the whole list of projects).
/// - `projects.deleted_at`, `projects.updated_at`, `runs.deleted_at`: microseconds, NULL while active (and,
///   for `updated_at`, while never changed). Existing rows stay active.
/// - `projects_by_display_name`: the display-name lookups of get-or-create and of a rename's conflict check.
/// - `runs_deleted_by_project`: a partial index over the runs in the trash only, so a search of deleted runs
///   reads those in its default order without walking the active ones; active searches keep their indexes
///   (`runs_by_project_start`, `runs_by_start`) and test `deleted_at IS NULL` on the row they read anyway.
enum LifecycleSchema {
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE projects ADD COLUMN deleted_at INTEGER;
                ALTER TABLE projects ADD COLUMN updated_at INTEGER;
                CREATE INDEX projects_by_display_name ON projects (namespace, display_name);
                CREATE TABLE project_tags (
                    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (project_id, key)
                ) WITHOUT ROWID;
                ALTER TABLE runs ADD COLUMN deleted_at INTEGER;
                CREATE INDEX runs_deleted_by_project ON runs (project_id, started_at DESC, id DESC)
                    WHERE deleted_at IS NOT NULL;
                """
        )
    }
}
