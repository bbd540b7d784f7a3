public import Foundation
public import Logging
import QuillCore

/// Where step results live and how waiting and locking behave, read from the environment by default.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `QUILL_STEPS_ROOT` | the folder holding `data/`, `git/` and `raw/` | `$QUILL_HOME/steps` (`~/.quill/steps`) |
/// | `QUILL_STEP_POLL` | seconds between a waiter's looks at a step another process computes | `1` |
/// | `QUILL_STEP_LEASE` | seconds a compute lock is held without a heartbeat before others may take it over | `120` |
/// | `QUILL_STEP_HEARTBEAT` | seconds between the holder's heartbeats | a third of the lease |
/// | `QUILL_STEP_STALE_AFTER` | seconds since the last heartbeat after which a lock is stale | the lease |
/// | `QUILL_STEP_MAX_WAIT` | seconds a call waits for another process before it gives up | `86400` |
/// | `QUILL_STEP_PREEMPT_MAX` | times a preempted computation is started again | `3` |
/// | `QUILL_STEP_JOB_POLL` | seconds between looks at the SLURM job that holds a step's lock | `5` |
/// | `QUILL_STEP_LOG_LEVEL` | level of the status lines (`trace` … `critical`) | `info` |
public struct StepOptions: Sendable {
    /// The folder holding `data/`, `git/` and `raw/`.
    public var root: String
    /// Seconds between a waiter's looks.
    public var pollInterval: Double = 1
    /// Seconds a lock stays valid without a heartbeat.
    public var lease: Double = 120
    /// Seconds between heartbeats.
    public var heartbeat: Double = 40
    /// Seconds since the last heartbeat after which a lock is taken over.
    public var staleAfter: Double = 120
    /// Seconds a call waits for another process's computation.
    public var maxWait: Double = 86_400
    /// Times a preempted computation is retried.
    public var preemptMax: Int = 3
    /// Seconds between looks at the state of a SLURM job that holds a step's lock (one `squeue` for all).
    public var jobPoll: Double = 5
    /// Where status lines go (`loadOrCreate TrainModel 3fa2c1d (missing→create)`).
    public var logger: Logger

    /// Options with a root folder and the defaults above.
    public init(root: String, logger: Logger = Logger(label: "quill.steps")) {
        self.root = root
        self.logger = logger
    }

    /// Options read from environment variables (the process's by default).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    )
        -> StepOptions
    {
        let root =
            environment["QUILL_STEPS_ROOT"].flatMap { $0.isEmpty ? nil : $0 }
            ?? QuillHome.fromEnvironment(environment).path + "/steps"
        var logger = Logger(label: "quill.steps")
        logger.logLevel =
            environment["QUILL_STEP_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        var options = StepOptions(root: root, logger: logger)
        func seconds(_ name: String) -> Double? {
            environment[name].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil }
        }
        options.pollInterval = seconds("QUILL_STEP_POLL") ?? 1
        options.lease = seconds("QUILL_STEP_LEASE") ?? 120
        options.heartbeat = seconds("QUILL_STEP_HEARTBEAT") ?? options.lease / 3
        options.staleAfter = seconds("QUILL_STEP_STALE_AFTER") ?? options.lease
        options.maxWait = seconds("QUILL_STEP_MAX_WAIT") ?? 86_400
        options.preemptMax = environment["QUILL_STEP_PREEMPT_MAX"].flatMap(Int.init).map { max(0, $0) } ?? 3
        options.jobPoll = seconds("QUILL_STEP_JOB_POLL") ?? 5
        return options
    }

    /// The options as the environment variables ``fromEnvironment(_:)`` reads, for a process that computes
    /// a step for this one (a SLURM job's `quill-step run`). The log level is left to the environment.
    package var environment: [String: String] {
        [
            "QUILL_STEPS_ROOT": root, "QUILL_STEP_POLL": String(pollInterval), "QUILL_STEP_LEASE": String(lease),
            "QUILL_STEP_HEARTBEAT": String(heartbeat), "QUILL_STEP_STALE_AFTER": String(staleAfter),
            "QUILL_STEP_MAX_WAIT": String(maxWait), "QUILL_STEP_PREEMPT_MAX": String(preemptMax),
            "QUILL_STEP_JOB_POLL": String(jobPoll),
        ]
    }

    /// The folder of one result: `<root>/data/<namespace>/<hash>` (`git/` for version-controlled steps).
    public func directory(namespace: String, hash: String, versionControlled: Bool) -> String {
        StepDirectory(root: root, namespace: namespace, hash: hash, versionControlled: versionControlled).path
    }

    /// The shared folder for large files: `<root>/raw`.
    public var rawDirectory: String { StepDirectory.rawFolder(root: root) }

    /// A namespace as a folder name: letters, digits, `.`, `_` and `-` kept, every other byte as `%XX`.
    public static func folderName(_ namespace: String) -> String {
        StepDirectory.folderName(namespace)
    }
}
