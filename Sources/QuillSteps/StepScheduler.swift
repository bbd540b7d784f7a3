import Foundation

/// How a batch job that computes a step ended, as the step's state records it.
package struct StepJobEnd: Sendable, Hashable {
    /// What the attempt becomes: `success` (the job completed), `failed`, `cancelled` or `preempted`.
    package var outcome: StepAttemptStatus
    /// The scheduler's reason, a sentence for the attempt's `error` (`SLURM job 12 FAILED: exited with status 3`).
    package var reason: String

    /// An ending.
    package init(outcome: StepAttemptStatus, reason: String) {
        self.outcome = outcome
        self.reason = reason
    }
}

/// Where a batch job stands, as far as a step waiting for it needs to know.
package enum StepJobPhase: Sendable, Hashable {
    /// Queued, running, or requeued: it may still compute the step, so its lock is not stale.
    case active
    /// Finished for good (or unknown to the scheduler, which forgets finished jobs after a while).
    case ended(StepJobEnd)
}

/// The seam between steps and a batch scheduler (SLURM): submitting `quill-step run NAMESPACE/HASH` as a
/// batch job and asking where jobs stand. `SlurmStepScheduler` is the one implementation, over `QuillSlurm`.
package protocol StepScheduler: Sendable {
    /// The backend recorded in the attempts it runs (`slurm`).
    var backend: String { get }

    /// Submits `command` (the runner: `<executable> quill-step run NAMESPACE/HASH`) with extra environment
    /// variables, named `name`, as a batch script written to `script`, its output appended to `output`;
    /// returns the job's id.
    func submit(
        command: [String],
        environment: [String: String],
        name: String,
        script: String,
        output: String
    )
        async throws -> String

    /// Where jobs stand, in one call for all of them. A job missing from the answer is unknown.
    /// Throws when the scheduler cannot be asked (its commands are missing or fail).
    func phases(of jobs: [String]) async throws -> [String: StepJobPhase]

    /// How many preempted attempts in a row a step computed through this scheduler may have before it is
    /// not started again.
    var preemptMax: Int { get }
}
