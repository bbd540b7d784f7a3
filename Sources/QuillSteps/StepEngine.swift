import Foundation
import Logging
import QuillCore
import Synchronization

/// How `loadOrCreate` decides: load a valid result, compute a missing one under the compute lock (here, or
/// in a SLURM job it submits), or wait for the process or job that computes it.
enum StepEngine {
    static func loadOrCreate<S: Step>(_ step: S, options: StepOptions, backend: String) async throws -> S.Output {
        try await loadOrCreate(step, options: options, call: StepCall(backend: backend))
    }

    static func loadOrCreate<S: Step>(_ step: S, options: StepOptions, call: StepCall) async throws -> S.Output {
        var call = call
        guard case .loaded(let output) = try await run(step, options: options, call: &call) else {
            preconditionFailure("a call that does not stop when pending ends loaded")
        }
        return output
    }

    /// What ``run(_:options:call:)`` ended with.
    enum Progress<Output> {
        /// The result, loaded.
        case loaded(Output)
        /// The result exists, not loaded; only when `call.stopWhenPending`.
        case ready
        /// The step is being computed by a SLURM job (this call's submission, when `call.submitted` is set,
        /// or the one holding the lock) or by another process (`nil`); only when `call.stopWhenPending`.
        case pending(job: String?)
    }

    static func run<S: Step>(_ step: S, options: StepOptions, call: inout StepCall) async throws -> Progress<S.Output> {
        let config = try StepEncoder.stepValue(step)
        guard case .step(let namespace, let hash, let typeName, let configuration) = config else {
            preconditionFailure("a step encodes as a step")
        }
        let directory = options.directory(namespace: namespace, hash: hash, versionControlled: S.isVersionControlled)
        let paths = StepDirectory(directory)
        let label = "\(typeName) \(hash.prefix(7))"
        let logger = options.logger
        func status(_ decision: String) {
            logger.info("loadOrCreate \(label) (\(decision))")
        }
        do {
            try FileIO.makeDirectory(paths.quill)
        } catch {
            throw StepLockError(path: paths.quill, reason: "\(error)")
        }
        let recorder = DependencyRecorder()
        let context = StepContext(
            directory: directory,
            namespace: namespace,
            hash: hash,
            options: options,
            logger: logger,
            dependencies: recorder
        )
        let lock = StepLock(paths)
        let started = Date()
        var announcedWait = false
        let stopWhenPending = call.stopWhenPending
        // A call that stops when pending only starts the computation: the caller loads the result later.
        func loaded() async throws -> Progress<S.Output> {
            stopWhenPending ? .ready : .loaded(try await step.load(context))
        }
        let backend = call.backend
        // Computes here holding the lock; `false` when `create` was preempted in this process and is retried.
        func create(_ holder: inout StepLock.Holder) async throws -> Bool {
            do {
                try await compute(
                    step,
                    context: context,
                    paths: paths,
                    lock: lock,
                    holder: &holder,
                    configuration: configuration,
                    typeName: typeName,
                    backend: backend
                )
            } catch is StepPreempted where !StepPreemption.isRequested {
                status("preempted→retry")
                return false
            }
            status("created→load")
            return true
        }
        var jobs = JobPhases(scheduler: call.scheduler, interval: options.jobPoll)
        while true {
            try Task.checkCancellation()
            if FileIO.exists(paths.success) {
                if try await step.validate(context) {
                    status("success→load")
                    return try await loaded()
                }
                status("invalid→create")
                try FileIO.withLock(paths.guardFile) {
                    if FileIO.exists(paths.success) {
                        unlink(paths.success)
                        var state = StepState.read(paths.state)
                        state.status = .incomplete
                        try state.write(paths.state)
                    }
                }
            }
            if let job = call.submitted, lock.holder()?.slurmJob != job {
                // The job this call submitted let go of the lock without a result: it failed or was
                // cancelled (reported here), or was preempted (submitted again below, within the maximum).
                try endedSubmission(job: job, paths: paths, configuration: configuration)
                call.submitted = nil
                continue
            }
            var holder = StepLock.Holder(token: newAttemptID(), lease: options.lease, slurmJob: call.job?.id)
            if try lock.tryAcquire(holder) {
                // Another process may have finished between our look and our lock.
                if FileIO.exists(paths.success), try await step.validate(context) {
                    lock.release(holder)
                    status("success→load")
                    return try await loaded()
                }
                let previous = StepState.read(paths.state).status
                let from = previous == .absent ? "missing" : previous.rawValue
                if let scheduler = call.submitTo {
                    status("\(from)→submit")
                    let job = try await submit(
                        step,
                        to: scheduler,
                        context: context,
                        paths: paths,
                        lock: lock,
                        holder: holder,
                        configuration: configuration,
                        typeName: typeName
                    )
                    status("submitted as SLURM job \(job)")
                    call.submitted = job
                    if call.stopWhenPending { return .pending(job: job) }
                    continue
                }
                status("\(from)→create")
                guard try await create(&holder) else { continue }
                return try await loaded()
            }
            if let job = call.job,
                var adopted = try lock.adopt(
                    job: job.id,
                    token: job.token,
                    { current in
                        // The submission's token names its queued attempt; after a requeue it is a new attempt.
                        StepLock.Holder(
                            token: current.token == job.token ? current.token : newAttemptID(),
                            lease: options.lease,
                            slurmJob: job.id
                        )
                    }
                )
            {
                status("SLURM job \(job.id)→create")
                guard try await create(&adopted) else { continue }
                return try await loaded()
            }
            let current = lock.holder()
            let phase: StepJobPhase? = if let job = current?.slurmJob { await jobs.phase(of: job) } else { nil }
            let tookOver = try lock.breakIfStale(
                staleAfter: options.staleAfter,
                isStale: { holder in
                    // SLURM decides for its jobs' locks while it can be asked: a queued or requeued job runs
                    // no process and renews nothing, and a running one may be on another machine.
                    if let job = holder.slurmJob, job == current?.slurmJob, let phase {
                        if case .ended = phase { return true }
                        return false
                    }
                    return holder.isStale(staleAfter: options.staleAfter)
                },
                { dead in
                    var state = StepState.read(paths.state)
                    if let dead {
                        if let job = dead.slurmJob, case .ended(let end)? = phase {
                            recordJobEnd(&state, holder: dead, job: job, end: end)
                        } else {
                            state.update(dead.token) { attempt in
                                attempt.status = .crashed
                                attempt.endedAt = Date()
                                attempt.error = "the process \(dead.owner) died or stopped renewing its lease"
                            }
                        }
                    }
                    if state.status != .success && state.status != .failed { state.status = .incomplete }
                    try state.write(paths.state)
                }
            )
            if tookOver {
                if case .ended(let end)? = phase {
                    status("\(end.reason)→takeover")
                } else {
                    status("stale→takeover")
                }
                continue
            }
            if !announcedWait {
                status(current?.slurmJob.map { "running in SLURM job \($0)→wait" } ?? "running→wait")
                announcedWait = true
            }
            if call.stopWhenPending { return .pending(job: current?.slurmJob) }
            if var queued = current, queued.isJobHeld, queued.slurmJob == call.submitted,
                Date().timeIntervalSince(queued.heartbeatAt) > options.heartbeat
            {
                // While no runner of its job runs, the submitter keeps the lock's lease, for waiters that
                // cannot ask SLURM.
                _ = try? lock.renew(&queued)
            }
            let waited = Date().timeIntervalSince(started)
            if waited > options.maxWait {
                throw StepWaitTimeoutError(
                    step: configuration.swiftSource,
                    waited: waited,
                    holder: lock.holder()?.owner
                )
            }
            try await Task.sleep(for: .milliseconds(Int64(options.pollInterval * 1000)))
        }
    }

    /// Runs `create` while holding the lock, renewing its lease, and records the outcome.
    private static func compute<S: Step>(
        _ step: S,
        context: StepContext,
        paths: StepDirectory,
        lock: StepLock,
        holder: inout StepLock.Holder,
        configuration: StepValue,
        typeName: String,
        backend: String
    ) async throws {
        // A preempted runner of a SLURM job hands the lock to its job, which SLURM runs again (requeue):
        // waiters keep waiting for it instead of taking a lock nobody holds.
        var handOverToJob = false
        defer {
            if handOverToJob, let job = holder.slurmJob,
                (try? lock.replace(holder, with: .job(job, token: newAttemptID(), lease: holder.lease))) == true
            {
            } else {
                lock.release(holder)
            }
        }
        let attemptID = holder.token
        try checkPreemptions(
            paths: paths,
            configuration: configuration,
            maximum: context.options.preemptMax,
            setting: "QUILL_STEP_PREEMPT_MAX"
        )
        try clearResult(paths)
        try writeMetadata(paths, context: context, configuration: configuration, typeName: typeName, recorded: [])
        try FileIO.withLock(paths.guardFile) {
            var state = StepState.read(paths.state)
            if let queued = state.attempts.last, queued.id == attemptID, queued.status == .queued {
                // The attempt a submission recorded, now running in its job.
                state.update(attemptID) { attempt in
                    attempt.status = .running
                    attempt.owner = holder.owner
                    attempt.slurmJob = holder.slurmJob ?? attempt.slurmJob
                    attempt.heartbeatAt = Date()
                }
            } else {
                if let job = holder.slurmJob {
                    // A runner of this job that SLURM killed before it could record its end (a requeue after
                    // SIGTERM's grace time): its attempt was preempted.
                    for index in state.attempts.indices
                    where state.attempts[index].slurmJob == job && state.attempts[index].status == .running {
                        state.attempts[index].status = .preempted
                        state.attempts[index].endedAt = Date()
                        state.attempts[index].error =
                            "SLURM job \(job) was requeued before the attempt recorded its end"
                    }
                }
                var attempt = StepAttempt(
                    id: attemptID,
                    status: .running,
                    owner: holder.owner,
                    backend: backend,
                    startedAt: Date()
                )
                attempt.heartbeatAt = Date()
                attempt.slurmJob = holder.slurmJob
                state.attempts.append(attempt)
            }
            state.status = .incomplete
            try state.write(paths.state)
        }
        let creating = StepContext(
            directory: context.directory,
            namespace: context.namespace,
            hash: context.hash,
            options: context.options,
            logger: Logger(label: "quill.steps") { _ in
                StepLogHandler(path: paths.log, next: context.logger, logLevel: .trace)
            },
            dependencies: context.dependencies
        )
        // The heartbeat runs on a thread of its own: `create` may block every thread of the cooperative
        // pool (synchronous training code), and a lease that is not renewed is taken over by another process.
        let heartbeat = heartbeat(lock: lock, holder: holder, paths: paths, attemptID: attemptID, context: context)
        let outcome: Result<Void, any Error>
        do {
            try await step.create(creating)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        heartbeat.stop()
        heartbeat.join()
        switch outcome {
        case .success:
            // Rewritten only when create used steps its configuration does not name.
            let named = configuration.nestedSteps.map { StepReference(namespace: $0.namespace, hash: $0.hash) }
            let recorded = context.dependencies.all
            if recorded.contains(where: { !named.contains($0) }) {
                try writeMetadata(
                    paths,
                    context: context,
                    configuration: configuration,
                    typeName: typeName,
                    recorded: recorded
                )
            }
            try FileIO.withLock(paths.guardFile) {
                try FileIO.replaceAtomically(
                    paths.success,
                    with: JSONWriter.pretty([
                        "hash": .string(context.hash), "attempt": .string(attemptID),
                        "completed_at": .string(Timestamp.string(Date())),
                    ])
                )
                var state = StepState.read(paths.state)
                state.update(attemptID) { attempt in
                    attempt.status = .success
                    attempt.endedAt = Date()
                }
                state.status = .success
                try state.write(paths.state)
            }
        case .failure(let error):
            let preempted = error is StepPreempted || (error is CancellationError && StepPreemption.isRequested)
            let cancelled = !preempted && error is CancellationError
            try? FileIO.withLock(paths.guardFile) {
                var state = StepState.read(paths.state)
                state.update(attemptID) { attempt in
                    attempt.status = preempted ? .preempted : cancelled ? .cancelled : .failed
                    attempt.endedAt = Date()
                    attempt.error =
                        preempted && !(error is StepPreempted)
                        ? "preempted: the runner got SIGTERM"
                            + (holder.slurmJob.map { " (SLURM job \($0) requeued, preempted or cancelled)" } ?? "")
                        : String(describing: error)
                }
                state.status = preempted || cancelled ? .incomplete : .failed
                try state.write(paths.state)
            }
            if preempted {
                handOverToJob = holder.slurmJob != nil
                throw error is StepPreempted ? error : StepPreempted("the runner was asked to stop")
            }
            if cancelled { throw error }
            context.logger.info("loadOrCreate \(typeName) \(context.hash.prefix(7)) (create failed: \(error))")
            throw StepCreateError(step: configuration.swiftSource, statePath: paths.state, underlying: error)
        }
    }

    /// Renews the compute lock's lease, and the attempt's `heartbeat_at`, every `heartbeat` seconds until
    /// stopped or until the lock turns out to be someone else's.
    private static func heartbeat(
        lock: StepLock,
        holder: StepLock.Holder,
        paths: StepDirectory,
        attemptID: String,
        context: StepContext
    ) -> BackgroundLoop {
        let interval = Duration.milliseconds(Int64(max(0.001, context.options.heartbeat) * 1000))
        return BackgroundLoop.start(name: "quill-step-heartbeat", after: interval) { stopping in
            if stopping { return nil }
            // `renew` checks the token and sets a new `heartbeatAt`: nothing carries over between runs.
            var renewed = holder
            guard (try? lock.renew(&renewed)) == true else {
                context.logger.warning("lost the compute lock of \(context.namespace)/\(context.hash.prefix(7))")
                return nil
            }
            try? FileIO.withLock(paths.guardFile) {
                var state = StepState.read(paths.state)
                state.update(attemptID) { $0.heartbeatAt = renewed.heartbeatAt }
                try state.write(paths.state)
            }
            return interval
        }
    }

    /// Removes what an earlier attempt left in the folder (everything but `.quill/`).
    private static func clearResult(_ paths: StepDirectory) throws {
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: paths.path)) ?? []
        where name != StepDirectory.quillFolderName {
            try manager.removeItem(atPath: paths.path + "/" + name)
        }
        unlink(paths.log)
    }

    static func writeMetadata(
        _ paths: StepDirectory,
        context: StepContext,
        configuration: StepValue,
        typeName: String,
        recorded: [StepReference]
    ) throws {
        var dependencies = configuration.nestedSteps.map { StepReference(namespace: $0.namespace, hash: $0.hash) }
        for edge in recorded where !dependencies.contains(edge) { dependencies.append(edge) }
        let host = EnvironmentCapture.host()
        let gitJSON = ProcessFacts.git
        let metadata: JSONValue = [
            "namespace": .string(context.namespace), "hash": .string(context.hash), "type": .string(typeName),
            "swift": .string(configuration.swiftSource), "config": configuration.json,
            "canonical": .string(CanonicalEncoding.string(configuration)),
            "dependencies": .array(dependencies.map(\.json)),
            "created_at": .string(Timestamp.string(Date())), "git": gitJSON,
            "command": .array(host.commandLine.map(JSONValue.string)), "swift_version": .string(host.swiftVersion),
            "executable": .string(host.executable), "platform": .string(host.os), "hostname": .string(host.hostname),
            "user": .string(host.user), "pid": .int(Int(host.pid)),
        ]
        try FileIO.replaceAtomically(paths.metadata, with: JSONWriter.pretty(metadata))
    }

    static func newAttemptID() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return String(
            decoding: (0..<12).map { _ in alphabet[Int(generator.next(upperBound: UInt64(36)))] },
            as: UTF8.self
        )
    }
}

/// Facts about this process that do not change while it runs, captured once.
enum ProcessFacts {
    /// The git state of the working directory when the process first needed it (`null` outside a
    /// checkout): running `git` costs milliseconds, so a program computing many steps pays it once.
    static var git: JSONValue {
        cache.withLock { cached in
            if let cached { return cached }
            var json: JSONValue = .null
            if let git = EnvironmentCapture.git(in: FileManager.default.currentDirectoryPath) {
                json = [
                    "commit": .string(git.info.commit), "branch": .string(git.info.branch),
                    "dirty": .bool(git.info.dirty), "remote": git.info.remote.map(JSONValue.string) ?? .null,
                    "diff": git.diff.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null,
                ]
            }
            cached = json
            return json
        }
    }

    private static let cache = Mutex<JSONValue?>(nil)
}
