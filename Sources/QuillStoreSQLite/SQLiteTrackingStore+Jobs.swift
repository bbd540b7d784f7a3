package import Foundation
import GRDB
package import QuillCore
package import QuillStore

/// The job queue in the same SQLite file as the runs (tables of migration "v13: jobs", ``JobSchema``).
///
/// Every change is one write transaction on the store's writer (`BEGIN IMMEDIATE`), so a claim reads the queue
/// and takes a job with no other writer in between, whether the other writer is a task of this process or
/// another process on the same file.
extension SQLiteTrackingStore: JobStore {
    // MARK: Submitting and reading

    package func submitJob(_ job: NewJob, now: Date) async throws -> Job {
        try job.validate()
        let conflicts: [UniqueConstraint: String] = [
            .other("jobs.run_id"): JobStoreText.jobRunTaken(job.runID).message,
            .runID: JobStoreText.runIDTaken(job.runID).message,
        ]
        return try await write(conflicts: conflicts) { db in
            guard try ProjectRecord.exists(db, key: job.projectID) else {
                throw TrackingRules.missingProjectOfRun(job.projectID)
            }
            let time = Timestamp.microseconds(now)
            var record = JobRecord(job, now: time)
            try record.insert(db)
            record.id = db.lastInsertedRowID
            // The run in the same transaction: a job never exists without its run, nor a run of a failed submission.
            try Self.insertJobRun(db, record, now: time)
            return record.stored(attempts: [])
        }
    }

    package func job(_ id: Int64) async throws -> Job? {
        try await read { db in try Self.fetchJob(db, id) }
    }

    package func jobs(_ query: JobQuery) async throws -> [Job] {
        try await read { db in
            var request = JobRecord.all()
            if !query.statuses.isEmpty {
                request = request.filter(query.statuses.map(\.rawValue).contains(JobRecord.Columns.status))
            }
            if let projectIDs = query.projectIDs {
                request = request.filter(projectIDs.contains(JobRecord.Columns.projectID))
            }
            if let before = query.beforeID { request = request.filter(JobRecord.Columns.id < before) }
            request =
                query.claimOrder
                ? request.order(JobRecord.Columns.priority.desc, JobRecord.Columns.id)
                : request.order(JobRecord.Columns.id.desc)
            let records = try request.limit(max(0, query.limit)).fetchAll(db)
            let attempts = try Self.attempts(db, jobIDs: records.compactMap(\.id))
            return records.map { $0.stored(attempts: attempts[$0.id ?? 0] ?? []) }
        }
    }

    package func jobCounts(projectIDs: [Int64]?) async throws -> [JobStatus: Int] {
        try await read { db in
            var request = JobRecord.select(JobRecord.Columns.status, count(JobRecord.Columns.id))
            if let projectIDs { request = request.filter(projectIDs.contains(JobRecord.Columns.projectID)) }
            var counts: [JobStatus: Int] = [:]
            for row in try Row.fetchAll(db, request.group(JobRecord.Columns.status)) {
                if let status = JobStatus(rawValue: row[0]) { counts[status] = row[1] }
            }
            return counts
        }
    }

    // MARK: Running

    package func claimJob(_ worker: WorkerCapabilities, lease: Duration, now: Date) async throws -> JobClaim? {
        try worker.validate()
        let start = Timestamp.microseconds(now)
        let expires = lease.expiry(from: start)
        return try await write { db in
            let running =
                try JobAttemptRecord
                .filter(JobAttemptRecord.Columns.worker == worker.name && JobAttemptRecord.Columns.outcome == nil)
                .fetchAll(db)
            guard running.count < worker.slots else { return nil }
            let free = worker.freeGPUs(held: running.flatMap(\.gpus))
            guard var record = try Self.nextJob(db, for: worker, freeGPUs: free.count), let id = record.id else {
                return nil
            }
            let last = try Int.fetchOne(
                db,
                sql: "SELECT max(number) FROM job_attempts WHERE job_id = ?",
                arguments: [id]
            )
            let attempt = JobAttemptRecord(
                jobID: id,
                number: (last ?? 0) + 1,
                worker: worker.name,
                gpus: Array(free.prefix(record.spec.resources.gpus)),
                startedAt: start,
                leaseExpiresAt: expires
            )
            try attempt.insert(db)
            record.progress.claim(at: start)
            try record.update(db)
            try Self.syncJobRun(db, record, started: (at: start, host: worker.name), now: start)
            let attempts = try Self.attempts(db, jobIDs: [id])[id] ?? []
            return JobClaim(job: record.stored(attempts: attempts), attempt: attempt.stored)
        }
    }

    package func renewLease(_ attempt: AttemptRef, lease: Duration, now: Date) async throws -> LeaseState {
        let expires = lease.expiry(from: Timestamp.microseconds(now))
        return try await write { db in
            var (job, record) = try Self.runningAttempt(db, attempt)
            record.leaseExpiresAt = expires
            try record.update(db, columns: [JobAttemptRecord.Columns.leaseExpiresAt])
            return LeaseState(expiresAt: Timestamp.date(microseconds: expires), cancelRequested: job.cancelRequested)
        }
    }

    package func recordSlurmJob(_ attempt: AttemptRef, id: String) async throws {
        try await write { db in
            var (_, record) = try Self.runningAttempt(db, attempt)
            record.slurmJobID = id
            try record.update(db, columns: [JobAttemptRecord.Columns.slurmJobID])
        }
    }

    package func finishAttempt(_ attempt: AttemptRef, _ result: AttemptResult, now: Date) async throws -> Job {
        guard result.outcome != .lost else { throw JobStoreText.lostByWorker }
        let end = Timestamp.microseconds(now)
        return try await write { db in
            var (job, record) = try Self.runningAttempt(db, attempt)
            record.endedAt = end
            record.outcome = result.outcome
            record.exitCode = result.exitCode
            record.signal = result.signal
            record.reason = result.reason
            try record.update(db)
            job.progress.finish(result, at: end)
            try job.update(db)
            try Self.syncJobRun(db, job, now: end)
            return try Self.stored(db, job)
        }
    }

    package func recoverExpiredLeases(now: Date) async throws -> [Job] {
        let cutoff = Timestamp.microseconds(now)
        return try await write { db in
            let expired =
                try JobAttemptRecord
                .filter(JobAttemptRecord.Columns.outcome == nil && JobAttemptRecord.Columns.leaseExpiresAt < cutoff)
                .fetchAll(db)
            return try expired.map { attempt in
                try Self.lose(
                    db,
                    attempt,
                    reason: JobStoreText.leaseExpired(worker: attempt.worker),
                    now: cutoff
                )
            }
        }
    }

    // MARK: Controlling

    package func cancelJob(_ id: Int64, reason: String?, now: Date) async throws -> Job {
        let time = Timestamp.microseconds(now)
        return try await write { db in
            guard var job = try JobRecord.fetchOne(db, key: id) else { throw JobStoreText.missingJob(id) }
            guard job.progress.cancel(reason: reason, at: time) else { return try Self.stored(db, job) }
            try job.update(db)
            if job.status == .cancelled { try Self.syncJobRun(db, job, now: time) }
            return try Self.stored(db, job)
        }
    }

    package func retryJob(_ id: Int64, now: Date) async throws -> Job {
        let time = Timestamp.microseconds(now)
        return try await write { db in
            guard var job = try JobRecord.fetchOne(db, key: id) else { throw JobStoreText.missingJob(id) }
            try job.progress.retry(job: id, at: time)
            try job.update(db)
            try Self.syncJobRun(db, job, now: time)
            return try Self.stored(db, job)
        }
    }

    // MARK: Helpers

    static func fetchJob(_ db: Database, _ id: Int64) throws -> Job? {
        guard let record = try JobRecord.fetchOne(db, key: id) else { return nil }
        return try stored(db, record)
    }

    static func stored(_ db: Database, _ record: JobRecord) throws -> Job {
        let id = record.id ?? 0
        return record.stored(attempts: try attempts(db, jobIDs: [id])[id] ?? [])
    }

    /// The attempts of some jobs, oldest first, by job.
    static func attempts(_ db: Database, jobIDs: [Int64]) throws -> [Int64: [JobAttempt]] {
        guard !jobIDs.isEmpty else { return [:] }
        let records =
            try JobAttemptRecord
            .filter(jobIDs.contains(JobAttemptRecord.Columns.jobID))
            .order(JobAttemptRecord.Columns.jobID, JobAttemptRecord.Columns.number)
            .fetchAll(db)
        return Dictionary(grouping: records, by: \.jobID).mapValues { $0.map(\.stored) }
    }

    /// The first queued job, by priority then age, that a worker with `freeGPUs` free GPUs can run.
    private static func nextJob(_ db: Database, for worker: WorkerCapabilities, freeGPUs: Int) throws -> JobRecord? {
        let labels = Set(worker.labels)
        // Most claims take the first candidate, so pages are small; labels are matched here, not in SQL.
        let page = 32
        var after: (priority: Int, id: Int64)?
        while true {
            // The partial index `jobs_queue` (priority DESC, id) WHERE status = 'queued' gives the queue's order
            // without a sort. Named, because without statistics SQLite prefers `jobs_by_status` and then sorts
            // every queued job on each claim (a claim's cost grew with the queue: 60 ms at 1,000 queued jobs).
            var sql = """
                SELECT * FROM jobs INDEXED BY jobs_queue
                WHERE status = 'queued' AND gpus <= ? AND (device IS NULL OR device = ?)
                """
            var arguments: StatementArguments = [freeGPUs, worker.name]
            if let after {
                // Keyset paging in (priority DESC, id ASC) order.
                sql += " AND (priority < ? OR (priority = ? AND id > ?))"
                arguments += [after.priority, after.priority, after.id]
            }
            sql += " ORDER BY priority DESC, id LIMIT \(page)"
            let candidates = try JobRecord.fetchAll(db, sql: sql, arguments: arguments)
            if let found = candidates.first(where: { Set($0.spec.resources.labels).isSubset(of: labels) }) {
                return found
            }
            guard candidates.count == page, let last = candidates.last else { return nil }
            after = (last.spec.priority, last.id ?? 0)
        }
    }

    /// A job and its running attempt named by `ref`.
    ///
    /// - Throws: `conflict` when the attempt is not the job's running one, or is held by another worker.
    private static func runningAttempt(_ db: Database, _ ref: AttemptRef) throws -> (JobRecord, JobAttemptRecord) {
        guard let job = try JobRecord.fetchOne(db, key: ref.jobID) else { throw JobStoreText.missingJob(ref.jobID) }
        guard
            let attempt = try JobAttemptRecord.fetchOne(
                db,
                key: [JobAttemptRecord.Columns.jobID.name: ref.jobID, JobAttemptRecord.Columns.number.name: ref.number]
            ),
            attempt.outcome == nil, attempt.worker == ref.worker
        else {
            throw JobStoreText.attemptNotRunning(ref, jobStatus: job.status)
        }
        return (job, attempt)
    }

    /// Ends a running attempt as lost and re-queues its job, or ends the job: cancelled when a cancel was asked
    /// for, failed when its attempts are used up.
    static func lose(_ db: Database, _ attempt: JobAttemptRecord, reason: String, now: Int64) throws -> Job {
        var attempt = attempt
        attempt.outcome = .lost
        attempt.endedAt = now
        attempt.reason = reason
        try attempt.update(db)
        guard var job = try JobRecord.fetchOne(db, key: attempt.jobID) else {
            throw JobStoreText.missingJob(attempt.jobID)
        }
        job.progress.lose(attempt: attempt.number, reason: reason, maxAttempts: job.spec.maxAttempts, at: now)
        try job.update(db)
        try syncJobRun(db, job, now: now)
        return try stored(db, job)
    }
}
