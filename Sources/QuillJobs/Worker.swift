import Foundation
package import Logging
import QuillCore
import QuillStore
import ServiceLifecycle
import Synchronization

/// Runs jobs from a queue: registers as a device, claims jobs with long-polls (one at a time, while a slot is free),
/// heartbeats, runs each job through its ``Executor`` in a run directory of the job's run (``JobRunDirectory``),
/// uploads its output and, with ``RunDirectoryUploads``, streams that directory to the server (see
/// `Worker+Streaming.swift`), and reports how it ended.
///
/// Stopping: on a graceful shutdown (SIGINT/SIGTERM in a `ServiceGroup`) or when its task is cancelled, the
/// worker stops claiming, stops the commands it runs (SIGTERM, SIGKILL after ``WorkerConfiguration/stopGrace``),
/// hands their jobs back to the queue (not counted as attempts), and unregisters.
package final class Worker: Service, Sendable {
    let configuration: WorkerConfiguration
    private let channel: any JobChannel
    private let executor: any Executor
    let uploads: (any RunDirectoryUploads)?
    let logger: Logger
    private let stopping = Mutex(false)

    /// A worker; with `uploads`, it streams each job's run directory (metrics, events, artifacts) to the server.
    package init(
        configuration: WorkerConfiguration,
        channel: any JobChannel,
        executor: any Executor = LocalProcessExecutor(),
        uploads: (any RunDirectoryUploads)? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.channel = channel
        self.executor = executor
        self.uploads = uploads
        self.logger = logger
    }

    private var isStopping: Bool { stopping.withLock { $0 } || Task.isCancelled }

    package func run() async throws {
        let name = configuration.device.name
        try await registerUntilDone()
        logger.info("worker registered", metadata: ["quill.device": "\(name)"])
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.heartbeatLoop() }
                group.addTask {
                    await RemoteArtifactSender(
                        configuration: self.configuration,
                        channel: self.channel,
                        logger: self.logger
                    )
                    .run { self.isStopping }
                }
                await self.claimLoop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
        }
        // Cancelled (the service group failed, or a test stopped the worker): the stores may be closing, so the
        // device is left to expire with its lease. After a graceful shutdown it unregisters.
        guard !Task.isCancelled else { return }
        do {
            try await channel.unregister(device: name)
        } catch {
            logger.warning("unregistering the worker failed", metadata: ["error": "\(error)"])
        }
        logger.info("worker stopped", metadata: ["quill.device": "\(name)"])
    }

    private func registerUntilDone() async throws {
        var delay: Duration = .milliseconds(200)
        while true {
            do {
                try await channel.register(configuration.device, lease: configuration.lease)
                return
            } catch {
                try Task.checkCancellation()
                if stopping.withLock({ $0 }) { throw CancellationError() }
                logger.warning("registering the worker failed; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.heartbeatInterval)
            if Task.isCancelled { return }
            do {
                try await channel.heartbeat(device: configuration.device.name, lease: configuration.lease)
            } catch let error as QuillError where error.code == .notFound {
                // The server forgot the device (a new database): register again.
                try? await channel.register(configuration.device, lease: configuration.lease)
            } catch {
                logger.debug("device heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Claims jobs while a slot is free, one long-poll at a time whatever the slots (a worker with many slots,
    /// such as a SLURM worker, would otherwise hold one HTTP connection per slot in long-polls and starve its
    /// lease renewals), and runs each claimed job in a task of its own.
    private func claimLoop() async {
        let slots = SlotGate(max(1, configuration.device.slots))
        await withTaskGroup(of: Void.self) { jobs in
            var delay: Duration = .milliseconds(200)
            while !isStopping {
                await slots.acquire()
                if isStopping {
                    slots.release()
                    break
                }
                let claim: JobClaim?
                do {
                    claim = try await cancelWhenGracefulShutdown {
                        try await self.channel.claim(
                            self.configuration.capabilities,
                            lease: self.configuration.lease,
                            wait: self.configuration.claimWait
                        )
                    }
                    delay = .milliseconds(200)
                } catch {
                    slots.release()
                    if isStopping { break }
                    logger.warning("claiming a job failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(5))
                    continue
                }
                guard let claim else {
                    slots.release()
                    continue
                }
                jobs.addTask {
                    await self.runJob(claim)
                    slots.release()
                }
            }
        }
    }

    // MARK: One job

    private func runJob(_ claim: JobClaim) async {
        let job = claim.job
        let ref = claim.ref
        let metadata: Logger.Metadata = ["quill.job.id": "\(job.id)", "quill.run.id": "\(job.spec.runID)"]
        logger.info("job started", metadata: metadata)
        let runDirectory: RunDirectory
        do {
            runDirectory = try JobRunDirectory.prepare(in: configuration.runsDirectory, for: claim)
        } catch {
            let reason = (error as? QuillError)?.message ?? "could not make the job's run directory: \(error)"
            await report(ref, AttemptResult(.failed, reason: reason), metadata: metadata)
            return
        }
        let outputPath = runDirectory.logPath
        var environment = job.spec.environment
        environment["QUILL_JOB_ID"] = String(job.id)
        environment["QUILL_RUN_ID"] = job.spec.runID.rawValue
        environment["QUILL_RUN_DIR"] = runDirectory.path
        if let uri = configuration.trackingURI() { environment["QUILL_TRACKING_URI"] = uri }
        if !claim.attempt.gpus.isEmpty || !configuration.device.gpus.isEmpty {
            // A job that asked for no GPU sees none, so it cannot take one another job holds.
            environment["CUDA_VISIBLE_DEVICES"] = claim.attempt.gpus.map(String.init).joined(separator: ",")
        }
        let execution: any Execution
        do {
            execution = try await executor.start(
                ExecutionRequest(
                    argv: job.spec.argv,
                    workingDirectory: job.spec.workdir,
                    environment: environment,
                    outputPath: outputPath,
                    job: job
                )
            )
        } catch {
            let reason = (error as? QuillError)?.message ?? "could not start the command: \(error)"
            await report(ref, AttemptResult(.failed, reason: reason), metadata: metadata)
            return
        }
        let monitor = AttemptMonitor(outputPath: outputPath)
        let upload = uploads?.session(for: runDirectory, claim: claim)
        let deadline = job.spec.timeout.map { ContinuousClock.now + $0 }
        // The watcher runs until the command ended (not until the task is cancelled: a stopping worker still
        // renews the lease and uploads output while its command winds down).
        let termination = await withTaskGroup(of: Termination?.self) { group in
            group.addTask {
                let ended = await execution.wait()
                monitor.commandEnded()
                return ended
            }
            if let upload {
                group.addTask {
                    await self.stream(upload, monitor: monitor)
                    return nil
                }
            }
            group.addTask {
                await self.watch(
                    ref,
                    execution: execution,
                    monitor: monitor,
                    deadline: deadline,
                    timeout: job.spec.timeout
                )
                return nil
            }
            var ended: Termination = .exited(255)
            for await result in group {
                if let result { ended = result }
            }
            return ended
        }
        await monitor.flush(ref, channel: channel, final: true)
        if let upload { await finalUpload(upload, monitor: monitor, metadata: metadata) }
        if monitor.abandoned {
            logger.warning("job lost to this worker; not reporting it", metadata: metadata)
            return
        }
        var result: AttemptResult
        switch termination {
        case .exited(0): result = AttemptResult(.completed, exitCode: 0)
        case .exited(let code):
            result = AttemptResult(.failed, exitCode: Int(code), reason: "exited with status \(code)")
        case .signalled(let signal):
            result = AttemptResult(.failed, signal: Int(signal), reason: "killed by signal \(signal)")
        case .ended(let outcome, let reason, let exitCode, let signal):
            result = AttemptResult(outcome, exitCode: exitCode, signal: signal, reason: reason)
        }
        if let (outcome, reason) = monitor.stopReason {
            result.outcome = outcome
            result.reason = reason
        }
        JobRunDirectory.finish(runDirectory, result, at: Date())
        await report(ref, result, metadata: metadata)
    }

    /// Renews the lease, uploads output, and stops the command on a cancel, a timeout or the worker's stop,
    /// until the command ended.
    private func watch(
        _ ref: AttemptRef,
        execution: any Execution,
        monitor: AttemptMonitor,
        deadline: ContinuousClock.Instant?,
        timeout: Duration?
    ) async {
        // Sent with each renewal until one went through, so the attempt records it once; the first renewal is
        // at once, so even a job that ends before the first heartbeat names its SLURM job.
        var slurmJobID = execution.slurmJobID
        var renewNow = slurmJobID != nil
        while true {
            if !renewNow {
                guard await monitor.sleep(configuration.heartbeatInterval) else { break }
            }
            renewNow = false
            if isStopping, monitor.stop(.handedBack, "the worker stopped; the job was handed back") {
                execution.stop(grace: configuration.stopGrace)
            }
            if let deadline, ContinuousClock.now >= deadline,
                monitor.stop(.timedOut, "ran past its timeout of \(timeout.map { "\($0)" } ?? "")")
            {
                execution.stop(grace: configuration.stopGrace)
            }
            do {
                let lease = try await channel.renew(ref, lease: configuration.lease, slurmJobID: slurmJobID)
                slurmJobID = nil
                if lease.cancelRequested, monitor.stop(.cancelled, "cancelled while running") {
                    execution.stop(grace: configuration.stopGrace)
                }
            } catch let error as QuillError where error.code == .conflict || error.code == .notFound {
                // The queue gave the job to another worker (this one was presumed dead): stop at once.
                monitor.abandon()
                execution.stop(grace: .zero)
            } catch {
                logger.debug("renewing a lease failed", metadata: ["error": "\(error)"])
            }
            await monitor.flush(ref, channel: channel, final: false)
        }
    }

    /// Reports an attempt's end, retrying while the queue is unreachable (up to about a lease).
    private func report(_ ref: AttemptRef, _ result: AttemptResult, metadata: Logger.Metadata) async {
        let clock = ContinuousClock()
        let giveUp = clock.now + configuration.lease
        while true {
            do {
                try await channel.finish(ref, result)
                logger.info("job ended", metadata: metadata.merging(["quill.job.outcome": "\(result.outcome)"]) { $1 })
                return
            } catch let error as QuillError where error.code == .conflict || error.code == .notFound {
                logger.warning("job ended but was no longer this worker's", metadata: metadata)
                return
            } catch {
                if clock.now >= giveUp {
                    logger.error(
                        "reporting a job's end failed",
                        metadata: metadata.merging(["error": "\(error)"]) { $1 }
                    )
                    return
                }
                await AttemptMonitor.sleep(.milliseconds(500))
            }
        }
    }
}

/// What the worker knows about one running attempt: why it was stopped, whether it was lost, and its output.
final class AttemptMonitor: Sendable {
    private struct State {
        var stopReason: (AttemptOutcome, String)?
        var abandoned = false
        var ended = false
        var sleepers: [Int: CheckedContinuation<Void, Never>] = [:]
        var sleeps = 0
        var tail: OutputTail
        var unsent: [String] = []
    }

    private let state: Mutex<State>

    init(outputPath: String) {
        state = Mutex(State(tail: OutputTail(path: outputPath)))
    }

    /// Records that the command ended and wakes the watcher.
    func commandEnded() {
        let sleepers = state.withLock { state in
            state.ended = true
            defer { state.sleepers = [:] }
            return Array(state.sleepers.values)
        }
        for sleeper in sleepers { sleeper.resume() }
    }

    /// Waits `duration` or until the command ends, whichever is first, ignoring task cancellation (a stopping
    /// worker keeps renewing the lease until its command ended); `false` once the command ended. Several tasks
    /// may wait at once (the watcher and the run directory's streamer).
    func sleep(_ duration: Duration) async -> Bool {
        let (seconds, attoseconds) = duration.components
        let delay = Double(seconds) + Double(attoseconds) / 1e18
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id = state.withLock { state -> Int? in
                guard !state.ended else { return nil }
                state.sleeps += 1
                state.sleepers[state.sleeps] = continuation
                return state.sleeps
            }
            guard let id else {
                continuation.resume()
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
                let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
                sleeper?.resume()
            }
        }
        return !state.withLock { $0.ended }
    }

    /// Sleeps even when the task is cancelled.
    static func sleep(_ duration: Duration) async {
        let (seconds, attoseconds) = duration.components
        let delay = Double(seconds) + Double(attoseconds) / 1e18
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { continuation.resume() }
        }
    }

    /// Records why the command is stopped; `false` when it was already stopped for another reason.
    func stop(_ outcome: AttemptOutcome, _ reason: String) -> Bool {
        state.withLock { state in
            guard state.stopReason == nil else { return false }
            state.stopReason = (outcome, reason)
            return true
        }
    }

    var stopReason: (AttemptOutcome, String)? { state.withLock { $0.stopReason } }

    func abandon() { state.withLock { $0.abandoned = true } }

    var abandoned: Bool { state.withLock { $0.abandoned } }

    /// Sends the output lines written since the last flush (kept for the next flush when sending fails).
    func flush(_ ref: AttemptRef, channel: any JobChannel, final: Bool) async {
        let lines = state.withLock { state in
            state.unsent += state.tail.read(final: final)
            defer { state.unsent.removeAll() }
            return state.unsent
        }
        guard !lines.isEmpty, !abandoned else { return }
        do {
            for start in stride(from: 0, to: lines.count, by: 5000) {
                try await channel.appendOutput(ref, lines: Array(lines[start..<min(lines.count, start + 5000)]))
            }
        } catch {
            // Sent again with the next flush; a line may then appear twice in the run's log.
            state.withLock { $0.unsent = lines + $0.unsent }
        }
    }
}

/// The worker's free slots: ``acquire()`` waits for one, ``release()`` gives one back.
final class SlotGate: Sendable {
    private let state: Mutex<(free: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(_ slots: Int) {
        state = Mutex((slots, []))
    }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume()
    }
}
