package import QuillCore
package import QuillStore

/// How a worker starts a job's command: the seam between the queue and where commands run (a local process,
/// ``LocalProcessExecutor``; a SLURM batch job, ``SlurmExecutor``, followed the same way).
///
/// An executor starts the command and hands back an ``Execution`` to wait for and to stop; the worker owns
/// everything else (leases, cancel requests, timeouts, output upload).
package protocol Executor: Sendable {
    /// Starts a command.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `process` when the command cannot be started (the job fails
    ///   with that message).
    func start(_ request: ExecutionRequest) async throws -> any Execution
}

/// A started command.
package protocol Execution: Sendable {
    /// Waits for the command to end.
    func wait() async -> Termination

    /// Asks the command to stop (SIGTERM to its process group for a local process) and forces it (SIGKILL)
    /// after `grace` if it is still running. Calling it again does nothing more.
    func stop(grace: Duration)

    /// The SLURM job it runs as (`123`, `123_4`), recorded on the attempt; `nil` for a local process.
    var slurmJobID: String? { get }
}

extension Execution {
    /// No SLURM job: a local process.
    package var slurmJobID: String? { nil }
}

/// What a command to run needs.
package struct ExecutionRequest: Sendable, Hashable {
    /// The command and its arguments (the first is looked up on `PATH`).
    package var argv: [String]
    /// The directory it starts in, or `nil` for the worker's.
    package var workingDirectory: String?
    /// Variables added to the worker's environment.
    package var environment: [String: String]
    /// The file its standard output and error are appended to.
    package var outputPath: String
    /// The claimed job (its spec, its earlier attempts), when a worker starts it.
    package var job: Job?

    /// A request.
    package init(
        argv: [String],
        workingDirectory: String?,
        environment: [String: String],
        outputPath: String,
        job: Job? = nil
    ) {
        self.argv = argv
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.outputPath = outputPath
        self.job = job
    }
}

/// How a command ended.
package enum Termination: Sendable, Hashable {
    /// It exited with this status.
    case exited(Int32)
    /// A signal ended it.
    case signalled(Int32)
    /// The scheduler that ran it says how the attempt ended (a SLURM job: failed with SLURM's reason,
    /// cancelled in SLURM, preempted), with the exit status or signal when known.
    case ended(AttemptOutcome, reason: String, exitCode: Int? = nil, signal: Int? = nil)
}
