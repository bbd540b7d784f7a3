import Foundation
import QuillCore
import Synchronization

/// The step types a program can compute by namespace, for `<executable> quill-step run NAMESPACE/HASH`.
///
/// ```swift
/// StepRegistry.register(Dataset.self)
/// StepRegistry.register(TrainModel.self)
/// if let status = await StepRunner.handle() { exit(status) }   // first thing in main
/// ```
public enum StepRegistry: Sendable {
    private static let types = Mutex<[String: any Step.Type]>([:])

    /// Makes a step type runnable by namespace.
    public static func register<S: Step>(_ type: S.Type) {
        types.withLock { $0[S.namespace] = type }
    }

    /// The registered type of a namespace.
    public static func type(namespace: String) -> (any Step.Type)? {
        types.withLock { $0[namespace] }
    }

    /// Every registered namespace, sorted.
    public static var namespaces: [String] {
        types.withLock { $0.keys.sorted() }
    }
}

/// Whether this process's runner was asked to stop because the job is being preempted.
///
/// ``StepRunner/handle(arguments:options:)`` requests it on SIGTERM; another runner can call ``request()``
/// before cancelling a computation, so the attempt is recorded as `preempted` rather than `cancelled`.
public enum StepPreemption: Sendable {
    private static let requested = Mutex(false)

    /// Marks this process as being preempted.
    public static func request() {
        requested.withLock { $0 = true }
    }

    /// Whether preemption was requested.
    public static var isRequested: Bool { requested.withLock { $0 } }
}

/// Runs steps in another process: the entry point the job queue and SLURM use.
public enum StepRunner: Sendable {
    /// When the arguments are `quill-step run NAMESPACE/HASH`, computes (or loads) that step and returns
    /// the exit status to end the process with; `nil` for any other arguments.
    ///
    /// The step is rebuilt from the configuration recorded in its metadata (``Step/record(options:)``
    /// writes it), its type found in ``StepRegistry``.
    public static func handle(
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        options: StepOptions = .fromEnvironment()
    ) async -> Int32? {
        guard arguments.count >= 2, arguments[0] == "quill-step" else { return nil }
        guard arguments[1] == "run", arguments.count == 3, let reference = StepReference(parsing: arguments[2]) else {
            FileHandle.standardError.write(Data("usage: quill-step run NAMESPACE/HASH\n".utf8))
            return 2
        }
        // SIGTERM (what schedulers send before they preempt a job) stops the computation and records the
        // attempt as preempted; the next run starts it again.
        signal(SIGTERM, SIG_IGN)
        // The one unstructured task here: its handle is kept, cancelled by the SIGTERM handler and awaited
        // below, so the computation can be stopped from a signal handler, which cannot await.
        let work = Task { try await run(reference, options: options) }
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler {
            StepPreemption.request()
            work.cancel()
        }
        source.resume()
        defer { source.cancel() }
        do {
            try await work.value
            return 0
        } catch {
            if StepPreemption.isRequested {
                FileHandle.standardError.write(
                    Data(
                        "quill-step: \(reference) was preempted; the attempt is recorded, run it again to resume\n".utf8
                    )
                )
                return 75  // EX_TEMPFAIL: try again later
            }
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            return 1
        }
    }

    /// Rebuilds a recorded step and loads or creates it in this process.
    public static func run(_ reference: StepReference, options: StepOptions = .fromEnvironment()) async throws {
        guard let type = StepRegistry.type(namespace: reference.namespace) else {
            let known = StepRegistry.namespaces.joined(separator: ", ")
            throw QuillError(
                .notFound,
                "no step type is registered for '\(reference.namespace)' (registered: \(known.isEmpty ? "none" : known)); call StepRegistry.register(…) before StepRunner.handle()"
            )
        }
        try await run(type, reference, options: options)
    }

    private static func run<S: Step>(_ type: S.Type, _ reference: StepReference, options: StepOptions) async throws {
        let directory = options.directory(
            namespace: reference.namespace,
            hash: reference.hash,
            versionControlled: S.isVersionControlled
        )
        guard let info = StepInfo.read(directory: directory), let config = info.metadata["config"]?.objectValue else {
            throw QuillError(
                .notFound,
                "step \(reference) has no recorded configuration in \(directory); record it first with step.record()"
            )
        }
        let step = try S(dictionary: config)
        let hash = try step.hash
        guard hash == reference.hash else {
            throw QuillError(
                .conflict,
                "the configuration recorded for \(reference) now hashes to \(hash); the type \(S.namespace) changed since it was recorded"
            )
        }
        _ = try await StepEngine.loadOrCreate(step, options: options, call: runnerCall())
    }

    /// How `quill-step run` computes: as the runner of a SLURM job when a submission started it (it set
    /// `QUILL_STEP_ATTEMPT`, and SLURM `SLURM_JOB_ID`), taking over the lock that job holds; else as a
    /// plain child process.
    static func runnerCall(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> StepCall {
        guard let token = environment["QUILL_STEP_ATTEMPT"], !token.isEmpty,
            let job = environment["SLURM_JOB_ID"], !job.isEmpty
        else { return StepCall(backend: "process") }
        return StepCall(backend: "slurm", job: StepCall.Job(id: job, token: token))
    }

    /// Computes a step in a child process (`executable quill-step run NAMESPACE/HASH`), waits for it, and
    /// loads the result here.
    ///
    /// - Parameter executable: A program that calls ``handle(arguments:options:)`` and registered the
    ///   step's type; this program by default.
    public static func loadOrCreateInChildProcess<S: Step>(
        _ step: S,
        executable: String? = nil,
        options: StepOptions = .fromEnvironment()
    ) async throws -> S.Output {
        let reference = try step.record(options: options)
        if !(try step.exists(options: options)) {
            let program = executable ?? ProcessCapture.currentExecutable()
            var environment = ProcessInfo.processInfo.environment
            environment["QUILL_STEPS_ROOT"] = options.root
            // Spawn and waitpid, not Foundation's Process: its waitUntilExit spins a core for as long as the
            // step computes, and it notices the end late when another child inherited its notice socket.
            let pid: pid_t
            do {
                pid = try Spawn.start(
                    [program, "quill-step", "run", reference.description],
                    environment: environment,
                    options: Spawn.Options(
                        standardOutput: 1,
                        standardError: 2,
                        inheritedIgnored: Spawn.ignoredSignals()
                    )
                )
            } catch {
                throw QuillError(.process, "could not start \(program): \(String(cString: strerror(error.code)))")
            }
            let status = await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: Spawn.wait(pid)) }
            }
            if !status.exited || status.exitCode != 0 {
                let ended =
                    status.terminationSignal.map { "was killed by signal \($0)" }
                    ?? "exited with status \(status.exitCode)"
                throw QuillError(
                    .process,
                    "\(program) quill-step run \(reference) \(ended); see \(StepDirectory(try step.directory(options: options)).state)"
                )
            }
        }
        return try await step.loadOrCreate(options: options)
    }
}
