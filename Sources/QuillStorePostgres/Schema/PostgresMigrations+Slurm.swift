extension PostgresMigrations {
    /// Migration "v2: preempted job attempts" (SQLite's "v17"): an attempt may end `preempted` (a SLURM job
    /// preempted or requeued, issue 16); the CHECK constraint of `job_attempts.outcome` gets the new outcome.
    static let preemptedAttempts: [String] = [
        "ALTER TABLE job_attempts DROP CONSTRAINT job_attempts_outcome_check",
        """
        ALTER TABLE job_attempts ADD CONSTRAINT job_attempts_outcome_check
            CHECK (outcome IN ('completed', 'failed', 'cancelled', 'timed_out', 'lost', 'handed_back', 'preempted'))
        """,
    ]
}
