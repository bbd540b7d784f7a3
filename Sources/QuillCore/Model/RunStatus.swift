/// Where a run is in its life.
public enum RunStatus: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The run is a queued job's, waiting for a worker; nothing has run yet. Only a server's runs have it
    /// (a local run starts `running`), and it is never reported crashed or stale.
    case queued
    /// The run's process is logging.
    case running
    /// The run ended normally.
    case completed
    /// The run's code reported a failure (a thrown error, a non-zero exit).
    case failed
    /// The run's process died without closing the run.
    case crashed
    /// The run was stopped by a signal (SIGINT, SIGTERM).
    case killed

    /// Whether the status is final: not `queued` or `running`.
    public var isTerminal: Bool { self != .running && self != .queued }

    /// The status as written in `meta.json`.
    public var description: String { rawValue }
}
