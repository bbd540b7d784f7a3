import Synchronization

/// How a started command ends, for every executor's ``Execution``: the first ``finish(_:)`` decides, and every
/// ``wait()``, before or after it, gets that ``Termination``; ``beginStopping()`` lets a stop be sent once.
final class ExecutionEnd: Sendable {
    private struct State {
        var ended: Termination?
        var waiters: [CheckedContinuation<Termination, Never>] = []
        var stopping = false
    }

    private let state = Mutex(State())

    /// An execution that runs.
    init() {}

    /// Records how it ended (a later call changes nothing) and wakes the waiters.
    func finish(_ termination: Termination) {
        let waiters = state.withLock { state -> [CheckedContinuation<Termination, Never>] in
            guard state.ended == nil else { return [] }
            state.ended = termination
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: termination) }
    }

    /// Waits for the end.
    func wait() async -> Termination {
        await withCheckedContinuation { continuation in
            let ended = state.withLock { state -> Termination? in
                if let ended = state.ended { return ended }
                state.waiters.append(continuation)
                return nil
            }
            if let ended { continuation.resume(returning: ended) }
        }
    }

    /// Whether it ended.
    var hasEnded: Bool { state.withLock { $0.ended != nil } }

    /// `true` the first time it is asked while the command runs: the caller sends the stop then, and only then.
    func beginStopping() -> Bool {
        state.withLock { state in
            guard state.ended == nil, !state.stopping else { return false }
            state.stopping = true
            return true
        }
    }
}
