public import Foundation
public import QuillCore

/// Where queued jobs, their attempts and the devices (workers) that run them are kept.
///
/// One protocol for every backend (SQLite first, PostgreSQL later); the queue logic (`QuillJobs`), the server's
/// job routes and whirr's API see only `any JobStore`. Each backend runs `JobStoreConformance` in `QuillTesting`.
///
/// The contract:
/// - Every call that depends on time takes `now`, so tests control it; leases are durations from `now`.
/// - ``claimJob(_:lease:now:)`` is atomic: two workers (threads, processes, servers on one database) never get
///   the same attempt. It takes the queued job with the highest priority, then the oldest, that the worker can
///   run: a free slot, enough free GPUs (its GPUs minus those its running attempts hold; a GPU is never given to
///   two running attempts), the device name when the job names one, and every label the job asks for.
/// - An attempt is named by an ``AttemptRef`` (job, number, worker). Calls about an attempt that is no longer the
///   job's running attempt (it was lost and re-queued, the job was retried) throw ``QuillError/Code/conflict``,
///   so a worker that was presumed dead cannot overwrite what happened since.
/// - ``recoverExpiredLeases(now:)`` turns every running attempt whose lease expired into `lost` and re-queues its
///   job, or fails it when ``NewJob/maxAttempts`` attempts were used, with the reason.
/// - Cancelling a queued job cancels it at once; cancelling a running one sets
///   ``Job/cancelRequested`` (seen by the worker through ``renewLease(_:lease:now:)``), and the job ends as its
///   worker reports. Whatever arrives first decides: a cancel after the final status changes nothing, and an
///   attempt that completed before its worker saw the cancel leaves the job `completed`. The final status, the
///   last attempt's outcome and the exit code always agree.
/// - Every job is a run, kept in step with the job in the same transaction as each change: `queued` from
///   submission (and again after a hand-back, a lost attempt re-queued, a retry), `running` from a claim
///   (started then, on the worker's host), then `completed`, `failed` or `killed` (cancelled) with the job's
///   end time.
/// - Unknown jobs throw ``QuillError/Code/notFound``; a change the job's status does not allow (retrying a
///   running job) throws ``QuillError/Code/conflict``.
/// - Devices are asked for files through the requests of ``RemoteArtifactStore``, which every job store keeps.
public protocol JobStore: RemoteArtifactStore {
    // MARK: Submitting and reading

    /// Adds a job to the queue, `queued`, and creates its run in the same transaction: `queued`, with the
    /// job's project, name, config and tags plus ``Job/runTag``, and the submitting user. A submission that
    /// fails leaves neither.
    ///
    /// - Throws: ``QuillError`` with code `invalidArgument` for an empty command, fewer than one attempt or a
    ///   negative GPU count; `notFound` for an unknown project; `conflict` when a job already produces the run
    ///   or a run with its id exists.
    func submitJob(_ job: NewJob, now: Date) async throws -> Job

    /// A job with its attempts, or `nil`.
    func job(_ id: Int64) async throws -> Job?

    /// Jobs, newest first, with their attempts.
    func jobs(_ query: JobQuery) async throws -> [Job]

    /// How many jobs have each status (statuses without jobs are absent), over some projects or all.
    func jobCounts(projectIDs: [Int64]?) async throws -> [JobStatus: Int]

    // MARK: Running (workers)

    /// Claims the next job the worker can run, or returns `nil` when there is none.
    ///
    /// - Parameters:
    ///   - worker: What the worker offers; its running attempts count against its slots and GPUs.
    ///   - lease: How long the worker holds the attempt without renewing it.
    func claimJob(_ worker: WorkerCapabilities, lease: Duration, now: Date) async throws -> JobClaim?

    /// Extends a running attempt's lease and says whether its job was cancelled.
    ///
    /// - Throws: ``QuillError`` with code `conflict` when the attempt is no longer running.
    func renewLease(_ attempt: AttemptRef, lease: Duration, now: Date) async throws -> LeaseState

    /// Records the SLURM job a running attempt was submitted as (``JobAttempt/slurmJobID``).
    ///
    /// - Throws: ``QuillError`` with code `conflict` when the attempt is no longer running.
    func recordSlurmJob(_ attempt: AttemptRef, id: String) async throws

    /// Ends a running attempt as its worker reports it: the job becomes `completed`, `failed` or `cancelled`,
    /// or `queued` again for `handedBack` (not counted as an attempt).
    ///
    /// - Throws: ``QuillError`` with code `conflict` when the attempt is no longer running, `invalidArgument` for
    ///   the outcome `lost` (only the store decides that).
    func finishAttempt(_ attempt: AttemptRef, _ result: AttemptResult, now: Date) async throws -> Job

    /// Re-queues (or fails, past their attempts) the jobs whose running attempt's lease expired.
    ///
    /// - Returns: The jobs changed, as they are now.
    func recoverExpiredLeases(now: Date) async throws -> [Job]

    // MARK: Controlling

    /// Cancels a job: a queued one at once, a running one by asking its worker; a finished one is returned
    /// unchanged.
    func cancelJob(_ id: Int64, reason: String?, now: Date) async throws -> Job

    /// Queues a finished (`completed`, `failed`, `cancelled`) job again, with its attempts counted afresh.
    ///
    /// - Throws: ``QuillError`` with code `conflict` when the job is queued or running.
    func retryJob(_ id: Int64, now: Date) async throws -> Job

    // MARK: Devices

    /// Records a device as online until `now + lease`, replacing an earlier registration of its name.
    func registerDevice(_ device: NewDevice, lease: Duration, now: Date) async throws -> Device

    /// Keeps a registered device online until `now + lease`.
    ///
    /// - Throws: ``QuillError`` with code `notFound` when the device is not registered (register it again).
    func deviceHeartbeat(_ name: String, lease: Duration, now: Date) async throws -> Device

    /// Removes a device (a worker that stopped); attempts it still holds are lost (re-queued or failed) at once.
    ///
    /// - Throws: ``QuillError`` with code `notFound` for an unknown device.
    func unregisterDevice(_ name: String, now: Date) async throws

    /// Every device, by name, with its status at `now`.
    func devices(now: Date) async throws -> [Device]
}

extension Job {
    /// The tag a job's run carries, naming the job by its id.
    public static let runTag = "quill.job"
}

extension JobStore {
    /// A device by name, or `nil`.
    public func device(_ name: String, now: Date) async throws -> Device? {
        try await devices(now: now).first { $0.spec.name == name }
    }
}

extension Duration {
    /// The duration in whole microseconds (rounded down), for stores that keep times as microseconds.
    package var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000 &+ attoseconds / 1_000_000_000_000
    }
}
