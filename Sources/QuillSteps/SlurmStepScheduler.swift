import Foundation
import QuillCore
import QuillSlurm

/// Steps on SLURM: submits the runner with ``QuillSlurm/SlurmClient`` and maps SLURM's phases to what a
/// step's lock and attempts need. The SLURM commands themselves live in `QuillSlurm` only.
struct SlurmStepScheduler: StepScheduler {
    let client: SlurmClient
    let parameters: SlurmParameters
    let policy: SlurmPreemptionPolicy

    /// A scheduler for the environment's cluster (`SLURM_CONF`) and preemption policy
    /// (`QUILL_PREEMPT_MAX`, `QUILL_CANCELLED_IS_PREEMPTED`).
    ///
    /// - Throws: ``QuillCore/QuillError`` (`invalidArgument`) for invalid parameters or policy variables.
    init(
        parameters: SlurmParameters = SlurmParameters(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        try parameters.validate()
        self.parameters = parameters
        policy = try SlurmPreemptionPolicy(environment: environment)
        client = SlurmClient(
            configuration: .init(slurmConf: environment["SLURM_CONF"].flatMap { $0.isEmpty ? nil : $0 })
        )
    }

    var backend: String { "slurm" }

    var preemptMax: Int { policy.maximum }

    func submit(
        command: [String],
        environment: [String: String],
        name: String,
        script: String,
        output: String
    )
        async throws -> String
    {
        let batch = SlurmBatchScript(
            name: name,
            parameters: parameters,
            tasks: [SlurmBatchScript.Task(argv: command)],
            environment: environment,
            outputPath: output
        )
        return try await client.submit(batch, writingTo: script).description
    }

    func phases(of jobs: [String]) async throws -> [String: StepJobPhase] {
        let ids = jobs.compactMap(SlurmJobID.init)
        var phases: [String: StepJobPhase] = [:]
        for (id, info) in try await client.poll(ids) {
            phases[id.description] = Self.phase(info.phase(policy))
        }
        return phases
    }

    /// SLURM's phase as a step sees it: a job that may run again (queued, running, requeued) is active.
    static func phase(_ phase: SlurmPhase) -> StepJobPhase {
        switch phase {
        case .queued, .running, .preempted(_, requeued: true):
            return .active
        case .completed:
            return .ended(StepJobEnd(outcome: .success, reason: "SLURM job completed"))
        case .failed(let reason):
            return .ended(StepJobEnd(outcome: .failed, reason: reason))
        case .cancelled(let reason):
            return .ended(StepJobEnd(outcome: .cancelled, reason: reason))
        case .preempted(let reason, requeued: false):
            return .ended(StepJobEnd(outcome: .preempted, reason: reason))
        }
    }
}
