extension PostgresMigrations {
    /// Migration "v4: the SLURM job of a job attempt" (SQLite's "v18"): the SLURM job an attempt was submitted
    /// as (`123`, or `123_4` for an array task; issue 16), recorded by its worker.
    static let slurmJobAttempts: [String] = [
        "ALTER TABLE job_attempts ADD COLUMN slurm_job_id TEXT"
    ]
}
