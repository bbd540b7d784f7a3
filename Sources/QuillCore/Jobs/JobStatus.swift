/// Where a queued job is in its life.
///
/// A job starts `queued`; a worker's claim makes it `running`; the attempt's end makes it `completed`, `failed`
/// or `cancelled`. A running job whose worker stops renewing its lease becomes `lost` and, in the same store
/// transaction, `queued` again (or `failed` once its attempts are used up), so `lost` is seen in attempt
/// outcomes and only briefly, if at all, as a job's status.
public enum JobStatus: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Waiting for a worker.
    case queued
    /// A worker runs it.
    case running
    /// Its command exited with status 0.
    case completed
    /// Its command exited non-zero or by a signal, timed out, could not start, or ran out of attempts.
    case failed
    /// Cancelled before or while it ran.
    case cancelled
    /// Its worker stopped renewing the lease.
    case lost

    /// Whether the status is final (`completed`, `failed`, `cancelled`).
    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .cancelled: true
        case .queued, .running, .lost: false
        }
    }

    /// The status as the API and the CLI write it.
    public var description: String { rawValue }
}

/// How one attempt at a job ended.
public enum AttemptOutcome: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// The command exited with status 0.
    case completed
    /// The command exited non-zero, was killed by a signal, or could not be started.
    case failed
    /// The job was cancelled while it ran and the worker stopped the command.
    case cancelled
    /// The command ran past the job's timeout and was stopped.
    case timedOut = "timed_out"
    /// The worker stopped renewing its lease.
    case lost
    /// The worker gave the job back unstarted or interrupted (it was shutting down); not counted as an attempt.
    case handedBack = "handed_back"
    /// The cluster scheduler (SLURM) preempted or requeued it; the job is queued again (up to the preemption
    /// maximum, `QUILL_PREEMPT_MAX`), not counted against its attempts.
    case preempted

    /// The job status an attempt that ended this way leaves behind (`lost`, `handedBack` and `preempted`
    /// re-queue).
    public var jobStatus: JobStatus {
        switch self {
        case .completed: .completed
        case .failed, .timedOut: .failed
        case .cancelled: .cancelled
        case .lost: .lost
        case .handedBack, .preempted: .queued
        }
    }

    /// The outcome as the API writes it.
    public var description: String { rawValue }
}
