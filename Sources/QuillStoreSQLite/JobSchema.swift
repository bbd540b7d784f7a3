import GRDB

/// The tables of the job queue (migration "v13: jobs"): `jobs` (one row per submitted job), `job_attempts` (one
/// row per claim, at most one running per job) and `devices` (registered workers).
///
/// The schema holds the rules it can: statuses and outcomes are checked, a job's run is unique, and the partial
/// unique index `job_attempts_one_running` refuses a second running attempt of one job, whatever the code does.
enum JobSchema {
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE jobs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    run_id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    argv TEXT NOT NULL,
                    workdir TEXT,
                    environment TEXT NOT NULL DEFAULT '{}',
                    config TEXT NOT NULL DEFAULT '{}',
                    tags TEXT NOT NULL DEFAULT '{}',
                    gpus INTEGER NOT NULL DEFAULT 0 CHECK (gpus >= 0),
                    device TEXT,
                    labels TEXT NOT NULL DEFAULT '[]',
                    priority INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
                    timeout_us INTEGER CHECK (timeout_us IS NULL OR timeout_us > 0),
                    submitted_by TEXT,
                    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'lost')),
                    attempts_used INTEGER NOT NULL DEFAULT 0,
                    cancel_requested INTEGER NOT NULL DEFAULT 0,
                    exit_code INTEGER,
                    signal INTEGER,
                    reason TEXT,
                    created_at INTEGER NOT NULL,
                    started_at INTEGER,
                    ended_at INTEGER,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX jobs_queue ON jobs (priority DESC, id) WHERE status = 'queued';
                CREATE INDEX jobs_by_status ON jobs (status, id);
                CREATE INDEX jobs_by_project ON jobs (project_id, id);
                CREATE TABLE job_attempts (
                    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    number INTEGER NOT NULL CHECK (number >= 1),
                    worker TEXT NOT NULL,
                    gpus TEXT NOT NULL DEFAULT '[]',
                    started_at INTEGER NOT NULL,
                    ended_at INTEGER,
                    lease_expires_at INTEGER NOT NULL,
                    outcome TEXT CHECK (outcome IN ('completed', 'failed', 'cancelled', 'timed_out', 'lost', 'handed_back')),
                    exit_code INTEGER,
                    signal INTEGER,
                    reason TEXT,
                    PRIMARY KEY (job_id, number)
                ) WITHOUT ROWID;
                CREATE UNIQUE INDEX job_attempts_one_running ON job_attempts (job_id) WHERE outcome IS NULL;
                CREATE INDEX job_attempts_running_by_lease ON job_attempts (lease_expires_at) WHERE outcome IS NULL;
                CREATE INDEX job_attempts_running_by_worker ON job_attempts (worker) WHERE outcome IS NULL;
                CREATE TABLE devices (
                    name TEXT PRIMARY KEY NOT NULL,
                    host TEXT NOT NULL,
                    cpus INTEGER NOT NULL,
                    memory_bytes INTEGER NOT NULL,
                    gpus TEXT NOT NULL DEFAULT '[]',
                    labels TEXT NOT NULL DEFAULT '[]',
                    slots INTEGER NOT NULL CHECK (slots >= 1),
                    registered_at INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL,
                    lease_expires_at INTEGER NOT NULL,
                    online INTEGER NOT NULL DEFAULT 1
                ) WITHOUT ROWID;
                """
        )
    }
}
