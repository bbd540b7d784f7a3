import Foundation
package import Logging
package import QuillCore
package import QuillStore
import ServiceLifecycle
import Synchronization

/// The job queue's logic over a ``QuillStore/JobStore`` and the runs the jobs produce: every job is a run.
///
/// - ``submit(_:)`` queues a job and creates its run, `queued`, with the job's name, config and tags and the
///   tag `quill.job`, in one store transaction (``QuillStore/JobStore/submitJob(_:now:)``): no job without its
///   run, no run left by a failed submission.
/// - ``claim(_:lease:wait:)`` long-polls: with nothing to claim it waits up to `wait` for the queue to change
///   and claims as soon as it does.
/// - The store keeps the run's status in step with the job's in each change's transaction: `running` from a
///   claim; `queued` again after a hand-back, a lost attempt or a retry; `completed`, `failed` (a failure, a
///   timeout, attempts used up) or `killed` (a cancel) at the end. Output lines a worker sends become the
///   run's log.
/// - As a `Service` it recovers expired leases every ``sweepInterval``, re-queueing the jobs of workers that
///   stopped heartbeating.
package final class JobQueue: Service, Sendable {
    /// The jobs.
    package let jobs: any JobStore
    /// The runs the jobs produce.
    package let runs: any TrackingStore
    /// Wakes long-polling claimers.
    package let signal = QueueSignal()
    /// Wakes workers long-polling for remote artifact requests (see `JobQueue+RemoteArtifacts.swift`).
    package let remoteArtifactSignal = QueueSignal()
    /// How often expired leases are recovered.
    package let sweepInterval: Duration
    private let logger: Logger
    /// Told the id of a job's run whenever the queue changed it (status, log), so a server can wake the
    /// readers following that run.
    private let runObservers = Mutex<[@Sendable (RunID) -> Void]>([])

    /// A queue over stores.
    package init(jobs: any JobStore, runs: any TrackingStore, sweepInterval: Duration = .seconds(1), logger: Logger) {
        self.jobs = jobs
        self.runs = runs
        self.sweepInterval = sweepInterval
        self.logger = logger
    }

    /// Calls `observer` with a job's run id each time the queue changes that run (its status, its log).
    package func observeRunChanges(_ observer: @escaping @Sendable (RunID) -> Void) {
        runObservers.withLock { $0.append(observer) }
    }

    private func runChanged(_ job: Job) {
        for observer in runObservers.withLock({ $0 }) { observer(job.spec.runID) }
    }

    /// The tag a job's run carries, naming the job.
    package static let jobTag = Job.runTag

    // MARK: Submitting and controlling

    /// Queues a job with its run (`queued`) and wakes waiting workers.
    package func submit(_ job: NewJob) async throws -> Job {
        let queued = try await jobs.submitJob(job, now: Date())
        signal.changed()
        runChanged(queued)
        return queued
    }

    /// Cancels a job (see ``QuillStore/JobStore/cancelJob(_:reason:now:)``).
    package func cancel(_ id: Int64, reason: String? = nil) async throws -> Job {
        let job = try await jobs.cancelJob(id, reason: reason, now: Date())
        runChanged(job)
        return job
    }

    /// Queues a finished job again and wakes waiting workers.
    package func retry(_ id: Int64) async throws -> Job {
        let job = try await jobs.retryJob(id, now: Date())
        signal.changed()
        runChanged(job)
        return job
    }

    // MARK: Workers

    /// Claims a job for a worker, waiting up to `wait` for one; its run is `running` from then.
    package func claim(_ worker: WorkerCapabilities, lease: Duration, wait: Duration) async throws -> JobClaim? {
        let deadline = ContinuousClock.now + wait
        while true {
            let seen = signal.version
            if let claim = try await jobs.claimJob(worker, lease: lease, now: Date()) {
                runChanged(claim.job)
                return claim
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, !Task.isCancelled else { return nil }
            await signal.wait(since: seen, timeout: left)
        }
    }

    /// Renews an attempt's lease, first recording the SLURM job it runs as when the worker names one.
    package func renew(_ attempt: AttemptRef, lease: Duration, slurmJobID: String? = nil) async throws -> LeaseState {
        if let slurmJobID { try await jobs.recordSlurmJob(attempt, id: slurmJobID) }
        return try await jobs.renewLease(attempt, lease: lease, now: Date())
    }

    /// Ends an attempt, sets its run's status, and wakes waiting workers (a slot is free).
    package func finish(_ attempt: AttemptRef, _ result: AttemptResult) async throws -> Job {
        let job = try await jobs.finishAttempt(attempt, result, now: Date())
        signal.changed()
        runChanged(job)
        return job
    }

    /// Appends a running attempt's output lines to its run's log.
    ///
    /// - Throws: `conflict` when the attempt is no longer running.
    package func appendOutput(_ attempt: AttemptRef, lines: [String]) async throws {
        guard let job = try await jobs.job(attempt.jobID) else {
            throw QuillError(.notFound, "job \(attempt.jobID) not found")
        }
        guard let current = job.currentAttempt, current.number == attempt.number, current.worker == attempt.worker
        else {
            throw QuillError(
                .conflict,
                "attempt \(attempt.number) of job \(attempt.jobID) is no longer running; drop its output"
            )
        }
        guard !lines.isEmpty else { return }
        var batch = LogBatch()
        batch.logs = lines.map { LogLine(timestamp: nil, level: nil, message: $0) }
        _ = try await runs.logBatch(job.spec.runID, batch)
        runChanged(job)
    }

    /// Re-queues or fails the jobs whose worker stopped heartbeating.
    @discardableResult
    package func recoverExpiredLeases() async throws -> [Job] {
        let changed = try await jobs.recoverExpiredLeases(now: Date())
        guard !changed.isEmpty else { return [] }
        for job in changed {
            logger.info(
                "job lease expired",
                metadata: ["quill.job.id": "\(job.id)", "quill.job.status": "\(job.status)"]
            )
            runChanged(job)
        }
        signal.changed()
        return changed
    }

    /// Recovers expired leases every ``sweepInterval`` until a graceful shutdown.
    package func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.recoverExpiredLeases()
                } catch {
                    self.logger.warning("recovering expired job leases failed", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: self.sweepInterval)
            }
        }
    }
}
