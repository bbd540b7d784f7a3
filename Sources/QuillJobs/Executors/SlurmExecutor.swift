import Foundation
import QuillCore
package import QuillSlurm
import QuillStore
import Synchronization

/// Runs the jobs that ask for SLURM (``SlurmJobSpec``) as SLURM batch jobs, and every other job with a local
/// executor.
///
/// A job's batch script exports the job's environment (`QUILL_RUN_DIR`, `QUILL_RUN_ID`, `QUILL_TRACKING_URI`, …)
/// and runs its command under `quill run --attach` (``quillExecutable``) on the compute node: in its own process
/// group, with the signals SLURM sends the batch step (scancel, preemption, `--signal`) passed on, the node's
/// system metrics sampled into the run directory, and the exit code or signal written to `meta.json`. SLURM
/// appends the output to the job's output file, the run directory's `output.log`, which the worker tails into
/// the run's log as for a local job; the worker alone uploads the run directory (fenced by the attempt's
/// lease, with its own key), the node-side quill never talks to the server. The runs directory must therefore
/// be on a filesystem the cluster's nodes share with the worker (as home and scratch directories are on SLURM
/// clusters), and so must ``quillExecutable``.
///
/// Each job is followed through one ``QuillSlurm/SlurmPoller`` for all of them (one `squeue` every half second). How
/// its attempt ends: COMPLETED → exit 0; FAILED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL → failed with SLURM's reason;
/// CANCELLED → cancelled (or preempted under `QUILL_CANCELLED_IS_PREEMPTED`); a requeue or preemption → the
/// SLURM job is cancelled and the attempt ends `preempted`, so the queue runs the job again (a fresh `sbatch`)
/// while it was preempted at most `QUILL_PREEMPT_MAX` times, then fails it. Stopping an attempt (`quill cancel`,
/// a timeout, the worker stopping) is `scancel`.
///
/// Jobs of a sweep (``SlurmJobSpec/ArrayMembership``) claimed together are submitted as one array job: the
/// first waits up to ``gatherWindow`` for the others, then all go as `--array=0-N%M`.
package final class SlurmExecutor: Executor {
    /// The client every SLURM call goes through.
    package let client: SlurmClient
    /// The poller following every job of this executor.
    package let poller: SlurmPoller
    /// How preemption and CANCELLED are treated.
    package let policy: SlurmPreemptionPolicy
    /// Where batch scripts (and array jobs' SLURM output files) are written; shared with the nodes.
    package let scriptsDirectory: String
    /// How long the first job of an array waits for the others.
    package let gatherWindow: Duration
    /// The `quill` the batch scripts run commands under (`quill run --attach -- COMMAND…`), an absolute path
    /// the nodes see.
    package let quillExecutable: String
    private let local: any Executor
    private let groups = Mutex<[String: ArrayGroup]>([:])

    /// An executor submitting through `client`.
    package init(
        client: SlurmClient,
        policy: SlurmPreemptionPolicy,
        scriptsDirectory: String,
        quillExecutable: String,
        pollInterval: Duration = .milliseconds(500),
        gatherWindow: Duration = .seconds(3),
        local: any Executor = LocalProcessExecutor()
    ) {
        self.client = client
        self.poller = SlurmPoller(client: client, interval: pollInterval)
        self.policy = policy
        self.scriptsDirectory = scriptsDirectory
        self.quillExecutable = quillExecutable
        self.gatherWindow = gatherWindow
        self.local = local
    }

    package func start(_ request: ExecutionRequest) async throws -> any Execution {
        guard let job = request.job, let parameters = try SlurmJobSpec.parameters(of: job.spec) else {
            return try await local.start(request)
        }
        guard !request.argv.isEmpty else { throw QuillError(.process, "the job has no command") }
        await stopEarlierAttempts(of: job, request: request)
        let preemptions = job.attempts.filter { $0.outcome == .preempted }.count
        let task = SlurmBatchScript.Task(
            argv: [quillExecutable, "run", "--attach", "--"] + request.argv,
            environment: request.environment
        )
        let id: SlurmJobID
        if let array = SlurmJobSpec.array(of: job.spec), array.count > 1, job.attempts.count <= 1 {
            id = try await submitInArray(array, parameters: parameters, request: request, task: task, job: job)
        } else {
            let script = SlurmBatchScript(
                name: job.spec.name.isEmpty ? "quill-job-\(job.id)" : job.spec.name,
                parameters: parameters,
                tasks: [task],
                workingDirectory: request.workingDirectory,
                outputPath: request.outputPath
            )
            let attempt = job.attempts.last?.number ?? 1
            id = try await client.submit(script, writingTo: scriptsDirectory + "/job-\(job.id)-\(attempt).sh")
        }
        Self.record(id, request: request)
        let execution = SlurmExecution(id: id, client: client, policy: policy, preemptionsBefore: preemptions)
        execution.follow(poller.updates(for: id))
        return execution
    }

    // MARK: Earlier attempts

    /// How long a new attempt waits for the SLURM jobs of earlier attempts to end after each `scancel`.
    static let earlierAttemptWait = Duration.seconds(3)

    /// Stops the SLURM jobs of the job's earlier attempts that SLURM still runs or queues, before this attempt
    /// is submitted.
    ///
    /// A worker that dies (SIGKILL, a lost machine) leaves its SLURM job running; the server ends that attempt
    /// as `lost` when its lease expires and the job is claimed again. Without this, the old job's node-side
    /// `quill run --attach` would go on writing into the run directory the new attempt uses (the same one when
    /// the new worker shares the runs directory). The old job is cancelled (SIGTERM, SLURM's `KillWait` grace),
    /// then killed (SIGKILL, nobody follows it) when it has not ended within ``earlierAttemptWait``; the whole
    /// stays well inside a lease, which nothing renews while an attempt starts. SLURM unreachable or still
    /// reporting the job after that is noted in the output, and the attempt goes on.
    private func stopEarlierAttempts(of job: Job, request: ExecutionRequest) async {
        let earlier = job.attempts.compactMap { attempt in attempt.slurmJobID.flatMap(SlurmJobID.init) }
        guard !earlier.isEmpty else { return }
        func note(_ line: String) { try? FileIO.append(request.outputPath, Array("quill: \(line)\n".utf8)) }
        do {
            var active = try await stillRunning(earlier)
            guard !active.isEmpty else { return }
            let named = active.map(\.description).joined(separator: ", ")
            note("cancelling SLURM job \(named) of an earlier attempt (its worker stopped answering)")
            try await client.cancel(active)
            active = try await waitUntilEnded(active)
            guard !active.isEmpty else { return }
            try await client.kill(active)
            active = try await waitUntilEnded(active)
            if !active.isEmpty {
                let left = active.map(\.description).joined(separator: ", ")
                note("SLURM still reports job \(left) of an earlier attempt after scancel --signal=KILL")
            }
        } catch {
            note("could not stop the SLURM jobs of earlier attempts: \((error as? QuillError)?.message ?? "\(error)")")
        }
    }

    /// The jobs of `ids` SLURM still queues or runs (a requeued one included); one it forgot has ended.
    private func stillRunning(_ ids: [SlurmJobID]) async throws -> [SlurmJobID] {
        let found = try await client.poll(ids)
        return ids.filter { id in
            switch found[id]?.phase() {
            case .queued, .running, .preempted(_, requeued: true): true
            default: false
            }
        }
    }

    /// Polls `ids` until none runs or ``earlierAttemptWait`` passed; returns those still running.
    private func waitUntilEnded(_ ids: [SlurmJobID]) async throws -> [SlurmJobID] {
        let deadline = ContinuousClock.now + Self.earlierAttemptWait
        var active = ids
        while !active.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            active = try await stillRunning(active)
        }
        return active
    }

    /// Notes the SLURM job in the output (so the run's log says where it runs) and as the run's tag.
    private static func record(_ id: SlurmJobID, request: ExecutionRequest) {
        try? FileIO.append(request.outputPath, Array("quill: submitted to SLURM as job \(id)\n".utf8))
        guard let runDirectory = request.environment["QUILL_RUN_DIR"] else { return }
        let event = RunEvent(kind: .tag, fields: ["key": .string(SlurmJobSpec.jobIDTag), "value": .string("\(id)")])
        try? FileIO.append(RunDirectory(path: runDirectory).eventsPath, event.line)
    }

    // MARK: Arrays

    private struct Member {
        var job: Job
        var task: SlurmBatchScript.Task
        var request: ExecutionRequest
        var continuation: CheckedContinuation<SlurmJobID, any Error>
    }

    private struct ArrayGroup {
        var membership: SlurmJobSpec.ArrayMembership
        var parameters: SlurmParameters
        var members: [Member] = []
        var generation: Int
    }

    private func submitInArray(
        _ array: SlurmJobSpec.ArrayMembership,
        parameters: SlurmParameters,
        request: ExecutionRequest,
        task: SlurmBatchScript.Task,
        job: Job
    ) async throws -> SlurmJobID {
        try await withCheckedThrowingContinuation { continuation in
            var redirected = task
            redirected.outputPath = request.outputPath
            let member = Member(job: job, task: redirected, request: request, continuation: continuation)
            let (full, first, generation) = groups.withLock { groups -> (ArrayGroup?, Bool, Int) in
                var group =
                    groups[array.key]
                    ?? ArrayGroup(membership: array, parameters: parameters, generation: Int.random(in: 0...Int.max))
                group.members.append(member)
                if group.members.count >= array.count {
                    groups[array.key] = nil
                    return (group, false, group.generation)
                }
                groups[array.key] = group
                return (nil, group.members.count == 1, group.generation)
            }
            if let full {
                Task { await self.submitArray(full) }
            } else if first {
                Task {
                    try? await Task.sleep(for: self.gatherWindow)
                    let late = self.groups.withLock { groups -> ArrayGroup? in
                        guard let group = groups[array.key], group.generation == generation else { return nil }
                        groups[array.key] = nil
                        return group
                    }
                    if let late { await self.submitArray(late) }
                }
            }
        }
    }

    /// Submits the gathered jobs as one array job (a single gathered job as a plain job) and gives each its id.
    private func submitArray(_ group: ArrayGroup) async {
        let members = group.members.sorted { $0.job.id < $1.job.id }
        let first = members[0]
        let script = SlurmBatchScript(
            name: "quill-sweep-\(group.membership.key)",
            parameters: group.parameters,
            tasks: members.map(\.task),
            workingDirectory: first.request.workingDirectory,
            outputPath: scriptsDirectory + "/array-%A_%a.out",
            maxParallel: group.membership.maxParallel
        )
        do {
            let id = try await client.submit(
                script,
                writingTo: scriptsDirectory + "/array-\(group.membership.key)-job-\(first.job.id).sh"
            )
            for (index, member) in members.enumerated() {
                member.continuation.resume(returning: members.count > 1 ? id.task(index) : id)
            }
        } catch {
            for member in members { member.continuation.resume(throwing: error) }
        }
    }
}

/// One attempt running as a SLURM job (or array task), followed through the executor's poller.
final class SlurmExecution: Execution {
    let id: SlurmJobID
    var slurmJobID: String? { id.description }
    private let client: SlurmClient
    private let policy: SlurmPreemptionPolicy
    private let preemptionsBefore: Int
    private let end = ExecutionEnd()

    init(id: SlurmJobID, client: SlurmClient, policy: SlurmPreemptionPolicy, preemptionsBefore: Int) {
        self.id = id
        self.client = client
        self.policy = policy
        self.preemptionsBefore = preemptionsBefore
    }

    /// Follows the job's records until its attempt ends.
    func follow(_ updates: AsyncStream<SlurmJobInfo?>) {
        Task {
            var follower = SlurmJobFollower(policy: policy)
            for await info in updates {
                for event in follower.observe(info) {
                    if let termination = await self.termination(for: event, info: info) {
                        self.end.finish(termination)
                        return
                    }
                }
            }
        }
    }

    /// How the attempt ends after `event`, or `nil` when it goes on.
    private func termination(for event: SlurmJobFollower.Event, info: SlurmJobInfo?) async -> Termination? {
        switch event {
        case .started:
            return nil
        case .requeued(let reason):
            // SLURM queued it again under the same id: the queue runs the job again with a fresh submission.
            try? await client.cancel([id])
            return preempted(reason)
        case .ended(.completed):
            return .exited(0)
        case .ended(.failed(let reason)):
            return .ended(.failed, reason: reason, exitCode: info?.exitCode, signal: info?.signal)
        case .ended(.cancelled(let reason)):
            return .ended(.cancelled, reason: reason, signal: info?.signal)
        case .ended(.preempted(let reason, _)):
            return preempted(reason)
        case .ended(.queued), .ended(.running):
            return nil
        case .vanished:
            return .ended(
                .failed,
                reason:
                    "SLURM no longer knows job \(id) (it ended and was purged before Quill saw how); accounting (sacct) would tell"
            )
        }
    }

    private func preempted(_ reason: String) -> Termination {
        let preemptions = preemptionsBefore + 1
        guard policy.runsAgain(afterPreemptions: preemptions) else {
            return .ended(.failed, reason: "\(reason); \(policy.exhaustedReason(preemptions: preemptions))")
        }
        return .ended(.preempted, reason: reason)
    }

    func wait() async -> Termination {
        await end.wait()
    }

    /// `scancel`; when SLURM has not confirmed the end after `grace` (and a minute at least, for a loaded
    /// controller), the attempt ends cancelled anyway.
    func stop(grace: Duration) {
        guard end.beginStopping() else { return }
        Task {
            try? await client.cancel([id])
            try? await Task.sleep(for: max(grace, .seconds(60)))
            self.end.finish(.ended(.cancelled, reason: "scancel \(id) sent; SLURM did not confirm the end"))
        }
    }
}
