import Foundation
public import QuillSlurm

/// Where a step's `create` runs when its result must be computed.
///
/// ```swift
/// let model = try await TrainModel(lr: 0.01).loadOrCreate(executor: .slurm(SlurmParameters(time: "02:00:00")))
/// ```
public enum StepExecutor: Sendable {
    /// In the calling process (what ``Step/loadOrCreate(options:)`` does).
    case local
    /// In a SLURM batch job: `<this executable> quill-step run NAMESPACE/HASH` through `sbatch` (the program
    /// must register the step's type and call ``StepRunner/handle(arguments:options:)`` first thing). The job
    /// holds the step's lock from submission to its end, so other callers on any node wait for it; a
    /// preempted job runs again (SLURM's requeue, or a new submission) up to `QUILL_PREEMPT_MAX` times.
    case slurm(SlurmParameters)
}

/// A step being computed, or computed: ``value()`` waits for the result and loads it.
///
/// ```swift
/// let handle = try await TrainModel(lr: 0.01).submit(executor: .slurm(SlurmParameters()))
/// print(handle.slurmJobID ?? "computed already")
/// let model = try await handle.value()
/// ```
public struct StepHandle<S: Step>: Sendable {
    /// The step.
    public let step: S
    /// The SLURM job computing the step: the one this call submitted, or the one found holding its lock;
    /// `nil` when the result existed, or a process (not a SLURM job) computes it.
    public let slurmJobID: String?
    /// Whether this call submitted ``slurmJobID``.
    public let submitted: Bool
    let executor: StepExecutor
    let options: StepOptions

    /// Waits for the result (the SLURM job, or whoever computes it; computing it when nobody does) and
    /// loads it.
    ///
    /// - Throws: ``StepCreateError`` when the computation failed (for a SLURM job, with SLURM's reason:
    ///   ``StepJobError``), was cancelled, or was preempted more often than allowed; and what
    ///   ``Step/loadOrCreate(options:)`` throws.
    public func value() async throws -> S.Output {
        var call = try StepCall(executor: executor)
        call.submitted = submitted ? slurmJobID : nil
        return try await StepEngine.loadOrCreate(step, options: options, call: call)
    }
}

extension Step {
    /// Loads the step's result, computing it first where `executor` says when there is none.
    ///
    /// With ``StepExecutor/slurm(_:)`` the computation is a SLURM job, and this call waits for it (polling
    /// the step's files every ``StepOptions/pollInterval`` and SLURM every ``StepOptions/jobPoll``).
    ///
    /// - Throws: what ``StepHandle/value()`` throws; ``QuillCore/QuillError`` for invalid SLURM parameters, or
    ///   when `sbatch` refuses the job or cannot run (wrapped in ``StepCreateError``).
    public func loadOrCreate(executor: StepExecutor, options: StepOptions = .fromEnvironment()) async throws -> Output {
        try await StepEngine.loadOrCreate(self, options: options, call: try StepCall(executor: executor))
    }

    /// Starts computing the step where `executor` says, unless it is computed or being computed, and returns
    /// at once with a handle to wait on. With ``StepExecutor/local`` the computation happens in this call.
    public func submit(
        executor: StepExecutor,
        options: StepOptions = .fromEnvironment()
    ) async throws
        -> StepHandle<Self>
    {
        var call = try StepCall(executor: executor)
        call.stopWhenPending = true
        switch try await StepEngine.run(self, options: options, call: &call) {
        case .loaded, .ready:
            return StepHandle(step: self, slurmJobID: nil, submitted: false, executor: executor, options: options)
        case .pending(let job):
            return StepHandle(
                step: self,
                slurmJobID: job,
                submitted: job != nil && call.submitted == job,
                executor: executor,
                options: options
            )
        }
    }
}

extension StepCall {
    /// The call of a caller choosing an executor.
    init(executor: StepExecutor) throws {
        switch executor {
        case .local:
            self.init(backend: "local")
        case .slurm(let parameters):
            self.init(backend: "slurm", submitTo: try SlurmStepScheduler(parameters: parameters))
        }
    }
}
