import Synchronization

/// Tells waiting claimers that the queue changed (a job was submitted, re-queued, retried or freed a worker's
/// slot), so a long-polling worker claims at once instead of on its next poll.
///
/// A waiter reads ``version`` before it tries to claim and then waits for a newer one, so a change that comes
/// between its claim and its wait is never missed.
package final class QueueSignal: Sendable {
    private struct State {
        var version = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// A signal.
    package init() {}

    /// The number of changes so far.
    package var version: Int { state.withLock { $0.version } }

    /// Records a change and wakes every waiter.
    package func changed() {
        let waiters = state.withLock { state in
            state.version += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the version passed `seen`, after `timeout`, or when the task is cancelled, whichever is first.
    package func wait(since seen: Int, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.waitForChange(since: seen) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForChange(since seen: Int) async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.version > seen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
