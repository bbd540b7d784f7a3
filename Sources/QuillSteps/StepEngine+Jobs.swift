import Foundation
import QuillCore

/// Who computes a step in one `loadOrCreate`, and what it knows about SLURM jobs.
struct StepCall: Sendable {
    /// The SLURM job this process runs in as the runner of a submitted step, and the submission's token.
    struct Job: Sendable {
        /// The SLURM job id (`SLURM_JOB_ID`).
        var id: String
        /// The lock token the submission recorded (`QUILL_STEP_ATTEMPT`), naming its queued attempt.
        var token: String?
    }

    /// What attempts computed in this process record as their backend.
    var backend: String
    /// Set in `quill-step run` inside a SLURM job: the lock of that job is this process's to take.
    var job: Job?
    /// When set, a missing step is submitted to this scheduler instead of computed here.
    var submitTo: (any StepScheduler)?
    /// Asked where the SLURM job holding a lock stands; `nil`: the environment's SLURM
    /// (``StepSchedulers/default``), made only when a lock names a job.
    var scheduler: (any StepScheduler)?
    /// The job this call submitted and waits for.
    var submitted: String?
    /// Whether ``StepEngine/run(_:options:call:)`` returns as soon as the step is being computed elsewhere.
    var stopWhenPending = false

    init(
        backend: String,
        job: Job? = nil,
        submitTo: (any StepScheduler)? = nil
    ) {
        self.backend = backend
        self.job = job
        self.submitTo = submitTo
        self.scheduler = submitTo
    }
}

/// The scheduler every waiter asks about locks SLURM jobs hold.
enum StepSchedulers {
    /// SLURM as the environment configures it; `nil` when its variables are invalid. When SLURM's tools
    /// are missing, asking fails and such locks go stale by their lease.
    static var `default`: (any StepScheduler)? { try? SlurmStepScheduler() }
}

/// The phases of the jobs one call looks at, asked at most every `interval` seconds.
struct JobPhases {
    private var scheduler: (any StepScheduler)?
    private var resolved: Bool
    let interval: Double
    private var known: [String: (phase: StepJobPhase?, at: Date)] = [:]

    /// Asks `scheduler`, or the environment's SLURM when `nil`.
    init(scheduler: (any StepScheduler)?, interval: Double) {
        self.scheduler = scheduler
        resolved = scheduler != nil
        self.interval = interval
    }

    /// Where a job stands; `nil` when the scheduler cannot be asked or does not know the job.
    mutating func phase(of job: String) async -> StepJobPhase? {
        if let seen = known[job], Date().timeIntervalSince(seen.at) < interval { return seen.phase }
        if !resolved {
            scheduler = StepSchedulers.default
            resolved = true
        }
        guard let scheduler else { return nil }
        // A job SLURM does not know (it forgot it long after its end, or this process asks another cluster)
        // is not taken for ended: its lock then goes stale by its lease, which its runner or its waiting
        // submitter renew while they live.
        let phase = (try? await scheduler.phases(of: [job]))?[job]
        known[job] = (phase, Date())
        return phase
    }
}

/// A SLURM job that computed a step failed, was cancelled, or stopped without a result.
public struct StepJobError: Error, Sendable, CustomStringConvertible {
    /// The SLURM job id.
    public var job: String
    /// How its attempt ended.
    public var status: StepAttemptStatus
    /// What the attempt recorded: `create`'s error, or SLURM's reason.
    public var reason: String

    /// The reason, naming the job.
    public var description: String {
        reason.hasPrefix("SLURM job") ? reason : "in SLURM job \(job) (\(status.rawValue)): \(reason)"
    }
}

extension StepEngine {
    /// Throws when more preempted attempts in a row than `maximum` are recorded.
    static func checkPreemptions(
        paths: StepDirectory,
        configuration: StepValue,
        maximum: Int,
        setting: String
    ) throws {
        // Preempted attempts since the last one that ended otherwise: each was a retry.
        let preempted = StepState.read(paths.state).attempts.reversed().prefix { $0.status == .preempted }.count
        if preempted > maximum {
            throw StepCreateError(
                step: configuration.swiftSource,
                statePath: paths.state,
                underlying: StepPreempted("preempted \(preempted) times, more than \(setting) (\(maximum)) allows")
            )
        }
    }

    /// Submits `quill-step run NAMESPACE/HASH` to the scheduler while holding the lock, records a `queued`
    /// attempt, and hands the lock to the job; returns the job's id.
    static func submit<S: Step>(
        _ step: S,
        to scheduler: any StepScheduler,
        context: StepContext,
        paths: StepDirectory,
        lock: StepLock,
        holder: StepLock.Holder,
        configuration: StepValue,
        typeName: String
    ) async throws -> String {
        do {
            try checkPreemptions(
                paths: paths,
                configuration: configuration,
                maximum: scheduler.preemptMax,
                setting: "QUILL_PREEMPT_MAX"
            )
            // The runner rebuilds the step from the configuration in the metadata.
            try writeMetadata(paths, context: context, configuration: configuration, typeName: typeName, recorded: [])
            try FileIO.withLock(paths.guardFile) {
                var state = StepState.read(paths.state)
                state.attempts.append(
                    StepAttempt(
                        id: holder.token,
                        status: .queued,
                        owner: holder.owner,
                        backend: scheduler.backend,
                        startedAt: Date()
                    )
                )
                state.status = .incomplete
                try state.write(paths.state)
            }
        } catch {
            lock.release(holder)
            throw error
        }
        var environment = context.options.environment
        environment["QUILL_STEP_ATTEMPT"] = holder.token
        // The runner allows what the scheduler's preemption policy allows.
        environment["QUILL_STEP_PREEMPT_MAX"] = String(scheduler.preemptMax)
        let job: String
        do {
            job = try await scheduler.submit(
                command: [
                    ProcessCapture.currentExecutable(), "quill-step", "run", "\(context.namespace)/\(context.hash)",
                ],
                environment: environment,
                name: "quill-step \(typeName) \(context.hash.prefix(7))",
                script: paths.slurmScript,
                output: paths.slurmOutput
            )
        } catch {
            try? FileIO.withLock(paths.guardFile) {
                var state = StepState.read(paths.state)
                state.update(holder.token) { attempt in
                    attempt.status = .failed
                    attempt.endedAt = Date()
                    attempt.error = "could not submit: \(error)"
                }
                state.status = .failed
                try state.write(paths.state)
            }
            lock.release(holder)
            throw StepCreateError(step: configuration.swiftSource, statePath: paths.state, underlying: error)
        }
        // The lock and the attempt name the job from now on. Its runner may have adopted the lock already
        // (by the token), in which case it is left as the runner wrote it.
        try FileIO.withLock(paths.guardFile) {
            if let current = lock.holder(), current.token == holder.token, current.slurmJob == nil {
                try FileIO.replaceAtomically(
                    lock.path,
                    with: JSONWriter.bytes(StepLock.Holder.job(job, token: holder.token, lease: holder.lease).json),
                    durable: false
                )
            }
            var state = StepState.read(paths.state)
            state.update(holder.token) { attempt in
                attempt.slurmJob = job
                if attempt.status == .queued { attempt.owner = "SLURM job \(job)" }
            }
            try state.write(paths.state)
        }
        return job
    }

    /// Reports how the job this call submitted ended, once it no longer holds the lock: throws for a failed,
    /// crashed or cancelled attempt; returns for a preempted one (submitted again) or one that succeeded.
    static func endedSubmission(job: String, paths: StepDirectory, configuration: StepValue) throws {
        let state = StepState.read(paths.state)
        guard let attempt = state.attempts.last(where: { $0.slurmJob == job }) else { return }
        switch attempt.status {
        case .failed, .crashed, .cancelled:
            throw StepCreateError(
                step: configuration.swiftSource,
                statePath: paths.state,
                underlying: StepJobError(
                    job: job,
                    status: attempt.status,
                    reason: attempt.error ?? "no reason recorded"
                )
            )
        case .queued, .running, .success, .preempted:
            return
        }
    }

    /// Records how SLURM says a job ended whose lock was left held: its last attempt, when still queued,
    /// running or `preempted` (what a runner records on SIGTERM, which SLURM also sends to cancel a job or
    /// end it at its time limit), takes SLURM's outcome and reason.
    static func recordJobEnd(_ state: inout StepState, holder: StepLock.Holder, job: String, end: StepJobEnd) {
        guard
            let index = state.attempts.lastIndex(where: { $0.id == holder.token })
                ?? state.attempts.lastIndex(where: { $0.slurmJob == job }),
            [.queued, .running, .preempted].contains(state.attempts[index].status)
        else { return }
        // A job that completed without writing the result or letting go of the lock did not finish it.
        let outcome: StepAttemptStatus = end.outcome == .success ? .crashed : end.outcome
        state.attempts[index].status = outcome
        state.attempts[index].endedAt = state.attempts[index].endedAt ?? Date()
        state.attempts[index].error = end.reason
        if outcome == .failed { state.status = .failed }
    }
}
