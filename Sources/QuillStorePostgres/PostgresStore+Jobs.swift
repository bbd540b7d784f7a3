package import Foundation
import PostgresNIO
package import QuillCore
package import QuillStore

/// The job queue on PostgreSQL (tables of migration "v1: jobs, devices and remote artifact requests"), shared by
/// every replica on the database.
///
/// Every change is one transaction that locks the job's row (`SELECT … FOR UPDATE`) before it reads the job's
/// state, so two replicas changing one job take turns; the transitions themselves are ``JobProgress``'s, the
/// same as on SQLite. A claim takes the first queued job the worker can run with `FOR UPDATE SKIP LOCKED`:
/// claimers on every replica pass over the rows others are taking instead of waiting for them, and never take
/// the same one. Claims of one worker name take turns (a transaction-scoped advisory lock on the name), so its
/// slots and GPUs are counted with no other claim of its own in between.
///
/// A change that queues a job (submission, retry, a hand-back, a lost attempt re-queued) or cancels one
/// announces ``StoreChange/jobs`` in its transaction, so waiting workers wake on every replica.
extension PostgresStore {
    // MARK: Submitting and reading

    package func submitJob(_ job: NewJob, now: Date) async throws -> Job {
        try job.validate()
        let time = Timestamp.microseconds(now)
        let progress = JobProgress(submittedAt: time)
        return try await transaction { connection in
            let project = try await connection.query(
                "SELECT 1 FROM projects WHERE id = \(job.projectID) FOR KEY SHARE",
                logger: logger
            ).collect()
            guard !project.isEmpty else { throw TrackingRules.missingProjectOfRun(job.projectID) }
            let inserted = try await connection.query(
                """
                INSERT INTO jobs (
                    project_id, run_id, name, argv, workdir, environment, config, tags, gpus, device, labels,
                    priority, max_attempts, timeout_us, submitted_by, status, attempts_used, cancel_requested,
                    created_at, updated_at
                ) VALUES (
                    \(job.projectID), \(job.runID.rawValue), \(job.name), \(JSONColumn.text(job.argv)),
                    \(job.workdir), \(JSONColumn.text(job.environment)), \(JSONWriter.string(.object(job.config))),
                    \(JSONColumn.text(job.tags)), \(job.resources.gpus), \(job.resources.device),
                    \(JSONColumn.text(job.resources.labels)), \(job.priority), \(job.maxAttempts),
                    \(job.timeout?.microseconds), \(job.submittedBy), \(progress.status.rawValue),
                    \(progress.attemptsUsed), \(progress.cancelRequested), \(time), \(progress.updatedAt)
                )
                ON CONFLICT (run_id) DO NOTHING
                RETURNING id
                """,
                logger: logger
            ).collect()
            guard let row = inserted.first else { throw JobStoreText.jobRunTaken(job.runID) }
            let stored = PostgresJobRows.JobRow(
                id: try row.decode(Int64.self),
                spec: job,
                createdAt: time,
                progress: progress
            )
            // The run in the same transaction: a job never exists without its run, nor a run of a failed submission.
            try await insertJobRun(stored, now: time, on: connection)
            try await announce(.jobs, on: connection)
            return stored.stored(attempts: [])
        }
    }

    package func job(_ id: Int64) async throws -> Job? {
        try await withConnection { connection in
            guard let row = try await lockedJob(id, lock: false, on: connection) else { return nil }
            return try await stored(row, on: connection)
        }
    }

    package func jobs(_ query: JobQuery) async throws -> [Job] {
        var binds = PostgresBindings()
        var conditions: [String] = []
        if !query.statuses.isEmpty {
            binds.append(query.statuses.map(\.rawValue).sorted())
            conditions.append("status = ANY($\(binds.count))")
        }
        if let projectIDs = query.projectIDs {
            binds.append(projectIDs)
            conditions.append("project_id = ANY($\(binds.count))")
        }
        if let before = query.beforeID {
            binds.append(before)
            conditions.append("id < $\(binds.count)")
        }
        binds.append(max(0, query.limit))
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let order = query.claimOrder ? "priority DESC, id" : "id DESC"
        let sql = "SELECT \(PostgresJobRows.jobColumns) FROM jobs \(filter) ORDER BY \(order) LIMIT $\(binds.count)"
        return try await withConnection { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
                .collect().map(PostgresJobRows.job)
            let attempts = try await self.attempts(jobIDs: rows.map(\.id), on: connection)
            return rows.map { $0.stored(attempts: attempts[$0.id] ?? []) }
        }
    }

    package func jobCounts(projectIDs: [Int64]?) async throws -> [JobStatus: Int] {
        try await withConnection { connection in
            let query: PostgresQuery =
                if let projectIDs {
                    "SELECT status, count(*) FROM jobs WHERE project_id = ANY(\(projectIDs)) GROUP BY status"
                } else {
                    "SELECT status, count(*) FROM jobs GROUP BY status"
                }
            let rows = try await connection.query(query, logger: logger)
            var counts: [JobStatus: Int] = [:]
            for try await (status, count) in rows.decode((String, Int).self) {
                if let status = JobStatus(rawValue: status) { counts[status] = count }
            }
            return counts
        }
    }

    // MARK: Running

    package func claimJob(_ worker: WorkerCapabilities, lease: Duration, now: Date) async throws -> JobClaim? {
        try worker.validate()
        let start = Timestamp.microseconds(now)
        let expires = lease.expiry(from: start)
        return try await transaction { connection in
            // Claims of one worker name take turns, so its running attempts (slots, GPUs) cannot change meanwhile.
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(Self.workerLockClass), hashtext(\(worker.name)))",
                logger: logger
            )
            var held: [Int] = []
            var running = 0
            for try await gpus in try await connection.query(
                "SELECT gpus FROM job_attempts WHERE worker = \(worker.name) AND outcome IS NULL",
                logger: logger
            ).decode(String.self) {
                running += 1
                held += JSONColumn.ints(gpus)
            }
            guard running < worker.slots else { return nil }
            let free = worker.freeGPUs(held: held)
            // The queue's order from the partial index `jobs_queue` (priority DESC, id); rows other claimers are
            // taking are passed over, not waited for.
            let candidates = try await connection.query(
                """
                SELECT \(unescaped: PostgresJobRows.jobColumns) FROM jobs
                WHERE status = 'queued' AND gpus <= \(free.count) AND (device IS NULL OR device = \(worker.name))
                    AND labels::jsonb <@ \(JSONColumn.text(worker.labels))::jsonb
                ORDER BY priority DESC, id
                LIMIT 1
                FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            ).collect()
            guard let found = candidates.first else { return nil }
            var job = try PostgresJobRows.job(found)
            var number = 1
            for try await last in try await connection.query(
                "SELECT max(number) FROM job_attempts WHERE job_id = \(job.id)",
                logger: logger
            ).decode(Int?.self) {
                number = (last ?? 0) + 1
            }
            let gpus = Array(free.prefix(job.spec.resources.gpus))
            try await connection.query(
                """
                INSERT INTO job_attempts (job_id, number, worker, gpus, started_at, lease_expires_at)
                VALUES (\(job.id), \(number), \(worker.name), \(JSONColumn.text(gpus)), \(start), \(expires))
                """,
                logger: logger
            )
            job.progress.claim(at: start)
            try await update(job, on: connection)
            try await syncJobRun(job, started: (at: start, host: worker.name), now: start, on: connection)
            let attempts = try await self.attempts(jobIDs: [job.id], on: connection)[job.id] ?? []
            guard let attempt = attempts.last else {
                throw QuillError(.io, "the attempt of job \(job.id) just claimed is missing; retry")
            }
            return JobClaim(job: job.stored(attempts: attempts), attempt: attempt)
        }
    }

    package func renewLease(_ attempt: AttemptRef, lease: Duration, now: Date) async throws -> LeaseState {
        let expires = lease.expiry(from: Timestamp.microseconds(now))
        return try await transaction { connection in
            let job = try await runningAttempt(attempt, on: connection)
            try await connection.query(
                """
                UPDATE job_attempts SET lease_expires_at = \(expires)
                WHERE job_id = \(attempt.jobID) AND number = \(attempt.number)
                """,
                logger: logger
            )
            return LeaseState(
                expiresAt: Timestamp.date(microseconds: expires),
                cancelRequested: job.progress.cancelRequested
            )
        }
    }

    package func recordSlurmJob(_ attempt: AttemptRef, id: String) async throws {
        try await transaction { connection in
            _ = try await runningAttempt(attempt, on: connection)
            try await connection.query(
                """
                UPDATE job_attempts SET slurm_job_id = \(id)
                WHERE job_id = \(attempt.jobID) AND number = \(attempt.number)
                """,
                logger: logger
            )
        }
    }

    package func finishAttempt(_ attempt: AttemptRef, _ result: AttemptResult, now: Date) async throws -> Job {
        guard result.outcome != .lost else { throw JobStoreText.lostByWorker }
        let end = Timestamp.microseconds(now)
        return try await transaction { connection in
            var job = try await runningAttempt(attempt, on: connection)
            try await connection.query(
                """
                UPDATE job_attempts
                SET ended_at = \(end), outcome = \(result.outcome.rawValue), exit_code = \(result.exitCode),
                    signal = \(result.signal), reason = \(result.reason)
                WHERE job_id = \(attempt.jobID) AND number = \(attempt.number)
                """,
                logger: logger
            )
            job.progress.finish(result, at: end)
            try await update(job, on: connection)
            try await syncJobRun(job, now: end, on: connection)
            if job.progress.status == .queued { try await announce(.jobs, on: connection) }
            return try await stored(job, on: connection)
        }
    }

    package func recoverExpiredLeases(now: Date) async throws -> [Job] {
        let cutoff = Timestamp.microseconds(now)
        return try await transaction { connection in
            let candidates = try await connection.query(
                """
                SELECT job_id FROM job_attempts
                WHERE outcome IS NULL AND lease_expires_at < \(cutoff)
                ORDER BY job_id
                """,
                logger: logger
            ).collect().map { try $0.decode(Int64.self) }
            var changed: [Job] = []
            for id in candidates {
                // Locked first, then read again: another replica may have recovered it, or its worker renewed.
                guard let job = try await lockedJob(id, on: connection),
                    let lost = try await runningAttempt(of: id, on: connection), lost.leaseExpiresAt < cutoff
                else { continue }
                let reason = JobStoreText.leaseExpired(worker: lost.worker)
                changed.append(try await lose(job, attempt: lost.number, reason: reason, now: cutoff, on: connection))
            }
            return changed
        }
    }

    // MARK: Controlling

    package func cancelJob(_ id: Int64, reason: String?, now: Date) async throws -> Job {
        let time = Timestamp.microseconds(now)
        return try await transaction { connection in
            guard var job = try await lockedJob(id, on: connection) else { throw JobStoreText.missingJob(id) }
            guard job.progress.cancel(reason: reason, at: time) else { return try await stored(job, on: connection) }
            try await update(job, on: connection)
            if job.progress.status == .cancelled { try await syncJobRun(job, now: time, on: connection) }
            try await announce(.jobs, on: connection)
            return try await stored(job, on: connection)
        }
    }

    package func retryJob(_ id: Int64, now: Date) async throws -> Job {
        let time = Timestamp.microseconds(now)
        return try await transaction { connection in
            guard var job = try await lockedJob(id, on: connection) else { throw JobStoreText.missingJob(id) }
            try job.progress.retry(job: id, at: time)
            try await update(job, on: connection)
            try await syncJobRun(job, now: time, on: connection)
            try await announce(.jobs, on: connection)
            return try await stored(job, on: connection)
        }
    }

    // MARK: Helpers

    /// The first key of the advisory locks that make one worker's claims take turns (the second is a hash of
    /// its name); two-key locks never collide with the one-key locks of migrations.
    static let workerLockClass: Int32 = 0x514A_4F42  // "QJOB"

    /// A job's row, locked for the rest of the transaction (`FOR UPDATE`) unless `lock` is false, or `nil`.
    func lockedJob(
        _ id: Int64,
        lock: Bool = true,
        on connection: PostgresConnection
    ) async throws
        -> PostgresJobRows.JobRow?
    {
        let rows = try await connection.query(
            "SELECT \(unescaped: PostgresJobRows.jobColumns) FROM jobs WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
            logger: logger
        ).collect()
        return try rows.first.map(PostgresJobRows.job)
    }

    /// Writes a job's progress back to its row.
    func update(_ job: PostgresJobRows.JobRow, on connection: PostgresConnection) async throws {
        let progress = job.progress
        try await connection.query(
            """
            UPDATE jobs
            SET status = \(progress.status.rawValue), attempts_used = \(progress.attemptsUsed),
                cancel_requested = \(progress.cancelRequested), exit_code = \(progress.exitCode),
                signal = \(progress.signal), reason = \(progress.reason), started_at = \(progress.startedAt),
                ended_at = \(progress.endedAt), updated_at = \(progress.updatedAt)
            WHERE id = \(job.id)
            """,
            logger: logger
        )
    }

    /// A job with its attempts.
    func stored(_ job: PostgresJobRows.JobRow, on connection: PostgresConnection) async throws -> Job {
        job.stored(attempts: try await attempts(jobIDs: [job.id], on: connection)[job.id] ?? [])
    }

    /// The attempts of some jobs, oldest first, by job.
    func attempts(jobIDs: [Int64], on connection: PostgresConnection) async throws -> [Int64: [JobAttempt]] {
        guard !jobIDs.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT \(unescaped: PostgresJobRows.attemptColumns) FROM job_attempts
            WHERE job_id = ANY(\(jobIDs))
            ORDER BY job_id, number
            """,
            logger: logger
        ).collect()
        var attempts: [Int64: [JobAttempt]] = [:]
        for row in rows {
            let (jobID, attempt) = try PostgresJobRows.attempt(row)
            attempts[jobID, default: []].append(attempt)
        }
        return attempts
    }

    /// The job of the running attempt named by `ref`, locked.
    ///
    /// - Throws: `notFound` for an unknown job; `conflict` when the attempt is not the job's running one, or is
    ///   held by another worker.
    private func runningAttempt(
        _ ref: AttemptRef,
        on connection: PostgresConnection
    ) async throws
        -> PostgresJobRows.JobRow
    {
        guard let job = try await lockedJob(ref.jobID, on: connection) else {
            throw JobStoreText.missingJob(ref.jobID)
        }
        guard let running = try await runningAttempt(of: ref.jobID, on: connection),
            running.number == ref.number, running.worker == ref.worker
        else {
            throw JobStoreText.attemptNotRunning(ref, jobStatus: job.progress.status)
        }
        return job
    }

    /// The running attempt of a job (the schema allows one): its number, worker and lease's end, or `nil`.
    func runningAttempt(
        of jobID: Int64,
        on connection: PostgresConnection
    ) async throws
        -> (number: Int, worker: String, leaseExpiresAt: Int64)?
    {
        let rows = try await connection.query(
            "SELECT number, worker, lease_expires_at FROM job_attempts WHERE job_id = \(jobID) AND outcome IS NULL",
            logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let (number, worker, lease) = try row.decode((Int, String, Int64).self)
        return (number, worker, lease)
    }

    /// Ends a running attempt of a locked job as lost and re-queues the job, or ends it (cancelled when a cancel
    /// was asked for, failed when its attempts are used up); announces a re-queued job.
    func lose(
        _ job: PostgresJobRows.JobRow,
        attempt number: Int,
        reason: String,
        now: Int64,
        on connection: PostgresConnection
    ) async throws -> Job {
        try await connection.query(
            """
            UPDATE job_attempts SET outcome = 'lost', ended_at = \(now), reason = \(reason)
            WHERE job_id = \(job.id) AND number = \(number)
            """,
            logger: logger
        )
        var job = job
        job.progress.lose(attempt: number, reason: reason, maxAttempts: job.spec.maxAttempts, at: now)
        try await update(job, on: connection)
        try await syncJobRun(job, now: now, on: connection)
        if job.progress.status == .queued { try await announce(.jobs, on: connection) }
        return try await stored(job, on: connection)
    }
}
