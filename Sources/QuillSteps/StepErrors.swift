import Foundation

/// A step's ``Step/create(_:)`` threw. The step's state is `failed`; the next call computes it again.
public struct StepCreateError: Error, Sendable, CustomStringConvertible {
    /// The step, as Swift source.
    public var step: String
    /// The state file that records the failed attempt.
    public var statePath: String
    /// What `create` threw.
    public var underlying: any Error

    /// The step, the state file and the cause.
    public var description: String {
        "\(step) failed in create: \(underlying); the attempt is recorded in \(statePath), and the next loadOrCreate tries again"
    }
}

/// Another process computed the step for longer than the step's maximum wait.
public struct StepWaitTimeoutError: Error, Sendable, CustomStringConvertible {
    /// The step, as Swift source.
    public var step: String
    /// How long the call waited, in seconds.
    public var waited: Double
    /// Who holds the compute lock (`host:pid`), when known.
    public var holder: String?

    /// The step, the wait and the holder.
    public var description: String {
        "\(step) is still being computed by \(holder ?? "another process") after \(Int(waited)) s; raise QUILL_STEP_MAX_WAIT, or remove a stuck lock with `quill steps rm`"
    }
}

/// The compute lock could not be taken: its folder cannot be created or written.
public struct StepLockError: Error, Sendable, CustomStringConvertible {
    /// The lock file.
    public var path: String
    /// Why.
    public var reason: String

    /// The lock file and the reason.
    public var description: String {
        "could not take the compute lock \(path): \(reason); check that the steps folder is writable (QUILL_STEPS_ROOT)"
    }
}

/// Thrown by a step's `create` (or by its runner) when the computation was preempted, for example by a
/// cluster scheduler: the attempt is recorded as `preempted` and started again, up to
/// `QUILL_STEP_PREEMPT_MAX` times.
public struct StepPreempted: Error, Sendable, CustomStringConvertible {
    /// Why, for the state file.
    public var reason: String

    /// Creates the error.
    public init(_ reason: String = "preempted") {
        self.reason = reason
    }

    /// The reason.
    public var description: String { "preempted: \(reason)" }
}
