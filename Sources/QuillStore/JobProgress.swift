package import QuillCore

/// The changing part of a job's record (times in microseconds since the epoch), and the one place its
/// transitions are decided: every backend reads the job's row, applies one of these and writes the row back in
/// the same transaction.
package struct JobProgress: Sendable, Hashable {
    /// Where the job is in its life.
    package var status: JobStatus
    /// Attempts counted against the job's maximum.
    package var attemptsUsed: Int
    /// Whether a cancel was asked for while it ran.
    package var cancelRequested: Bool
    /// The last attempt's exit status.
    package var exitCode: Int?
    /// The signal that ended the last attempt's command.
    package var signal: Int?
    /// Why it failed or was cancelled, in words.
    package var reason: String?
    /// When its current or last attempt started.
    package var startedAt: Int64?
    /// When it reached a final status.
    package var endedAt: Int64?
    /// When its record last changed.
    package var updatedAt: Int64

    /// The progress of a job just submitted: `queued`, no attempt used.
    package init(submittedAt now: Int64) {
        self.init(
            status: .queued,
            attemptsUsed: 0,
            cancelRequested: false,
            updatedAt: now
        )
    }

    /// A progress as a backend read it.
    package init(
        status: JobStatus,
        attemptsUsed: Int,
        cancelRequested: Bool,
        exitCode: Int? = nil,
        signal: Int? = nil,
        reason: String? = nil,
        startedAt: Int64? = nil,
        endedAt: Int64? = nil,
        updatedAt: Int64
    ) {
        self.status = status
        self.attemptsUsed = attemptsUsed
        self.cancelRequested = cancelRequested
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.updatedAt = updatedAt
    }

    /// A worker claimed the job: `running`, one more attempt used, the last attempt's results cleared.
    package mutating func claim(at start: Int64) {
        status = .running
        attemptsUsed += 1
        startedAt = start
        endedAt = nil
        exitCode = nil
        signal = nil
        reason = nil
        updatedAt = start
    }

    /// The running attempt ended as its worker reports (`lost` is refused before this is called).
    ///
    /// A hand-back or a preemption re-queues the job without using an attempt (a preemption keeps its reason),
    /// unless a cancel was asked for: then it ends cancelled. Any other outcome is final as reported (a command
    /// that completed before its worker saw the cancel stays completed).
    package mutating func finish(_ result: AttemptResult, at end: Int64) {
        let requeues = result.outcome == .handedBack || result.outcome == .preempted
        if requeues && !cancelRequested {
            status = .queued
            attemptsUsed = max(0, attemptsUsed - 1)
            startedAt = nil
            if result.outcome == .preempted { reason = result.reason.map { "\($0); queued again" } }
        } else {
            status = requeues ? .cancelled : result.outcome.jobStatus
            exitCode = result.exitCode
            signal = result.signal
            reason = result.reason ?? (status == .cancelled ? "cancelled while running" : nil)
            endedAt = end
            cancelRequested = false
        }
        updatedAt = end
    }

    /// The running attempt `number` was lost for `reason`: the job is queued again, or ends cancelled when a
    /// cancel was asked for, or failed when its `maxAttempts` attempts are used up.
    package mutating func lose(attempt number: Int, reason lost: String, maxAttempts: Int, at now: Int64) {
        if cancelRequested {
            status = .cancelled
            reason = "cancelled; \(lost)"
            endedAt = now
            cancelRequested = false
        } else if attemptsUsed >= maxAttempts {
            status = .failed
            reason = "lost: \(lost); all \(maxAttempts) attempts used"
            endedAt = now
        } else {
            status = .queued
            reason = "attempt \(number) lost: \(lost); queued again"
        }
        updatedAt = now
    }

    /// Cancels the job: a queued one at once, a running one by asking its worker.
    ///
    /// - Returns: `false` when the job had already ended (nothing changed, nothing to write).
    package mutating func cancel(reason asked: String?, at time: Int64) -> Bool {
        switch status {
        case .queued, .lost:
            status = .cancelled
            reason = asked ?? "cancelled before it started"
            endedAt = time
        case .running:
            cancelRequested = true
            if let asked { reason = asked }
        case .completed, .failed, .cancelled:
            return false
        }
        updatedAt = time
        return true
    }

    /// Queues a finished job again with its attempts counted afresh.
    ///
    /// - Throws: ``QuillError`` with code `conflict` when the job is queued or running.
    package mutating func retry(job id: Int64, at time: Int64) throws {
        guard status.isTerminal else {
            throw QuillError(
                .conflict,
                "job \(id) is \(status); only a completed, failed or cancelled job can be retried"
            )
        }
        status = .queued
        attemptsUsed = 0
        cancelRequested = false
        exitCode = nil
        signal = nil
        reason = nil
        startedAt = nil
        endedAt = nil
        updatedAt = time
    }
}

extension RunStatus {
    /// The status a job's run has while the job has `status` (a job's run is kept in step with the job).
    package init(job status: JobStatus) {
        switch status {
        case .queued, .lost: self = .queued
        case .running: self = .running
        case .completed: self = .completed
        case .failed: self = .failed
        case .cancelled: self = .killed
        }
    }
}

extension Job {
    /// A job as a backend read it: its id, what was submitted, when (microseconds since the epoch), its
    /// progress and its attempts, oldest first.
    package init(id: Int64, spec: NewJob, createdAt: Int64, progress: JobProgress, attempts: [JobAttempt]) {
        self.init(
            id: id,
            spec: spec,
            status: progress.status,
            attemptsUsed: progress.attemptsUsed,
            cancelRequested: progress.cancelRequested,
            exitCode: progress.exitCode,
            signal: progress.signal,
            reason: progress.reason,
            createdAt: Timestamp.date(microseconds: createdAt),
            startedAt: progress.startedAt.map(Timestamp.date(microseconds:)),
            endedAt: progress.endedAt.map(Timestamp.date(microseconds:)),
            updatedAt: Timestamp.date(microseconds: progress.updatedAt),
            attempts: attempts
        )
    }
}
