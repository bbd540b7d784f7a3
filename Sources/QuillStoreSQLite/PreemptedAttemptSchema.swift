import GRDB

/// Migration "v17: preempted job attempts": an attempt may end `preempted` (a SLURM job preempted or requeued,
/// issue 16). SQLite cannot change a column's CHECK constraint in place, so `job_attempts` is rebuilt with the
/// new list of outcomes, its rows and indexes kept as they were (``JobSchema``).
enum PreemptedAttemptSchema {
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE job_attempts_v17 (
                    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    number INTEGER NOT NULL CHECK (number >= 1),
                    worker TEXT NOT NULL,
                    gpus TEXT NOT NULL DEFAULT '[]',
                    started_at INTEGER NOT NULL,
                    ended_at INTEGER,
                    lease_expires_at INTEGER NOT NULL,
                    outcome TEXT CHECK (outcome IN ('completed', 'failed', 'cancelled', 'timed_out', 'lost', 'handed_back', 'preempted')),
                    exit_code INTEGER,
                    signal INTEGER,
                    reason TEXT,
                    PRIMARY KEY (job_id, number)
                ) WITHOUT ROWID;
                INSERT INTO job_attempts_v17 SELECT job_id, number, worker, gpus, started_at, ended_at, lease_expires_at,
                    outcome, exit_code, signal, reason FROM job_attempts;
                DROP TABLE job_attempts;
                ALTER TABLE job_attempts_v17 RENAME TO job_attempts;
                CREATE UNIQUE INDEX job_attempts_one_running ON job_attempts (job_id) WHERE outcome IS NULL;
                CREATE INDEX job_attempts_running_by_lease ON job_attempts (lease_expires_at) WHERE outcome IS NULL;
                CREATE INDEX job_attempts_running_by_worker ON job_attempts (worker) WHERE outcome IS NULL;
                """
        )
    }
}
