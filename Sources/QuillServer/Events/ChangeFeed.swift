import Synchronization

/// Wakes the readers that follow a key (a run, later a job or a device) when a write changes it: the
/// server-side half of a live page.
///
/// Writers call ``publish(_:)`` after a write commits; it takes a lock, bumps the key's generation and
/// resumes the readers waiting on it, and never waits itself, so a slow reader cannot hold up a writer.
/// Readers learn only that something changed, never what: each reads the store from its own position,
/// so bursts of writes coalesce into one read, and a reader's memory does not grow with the writes it missed.
/// Keys nobody follows are not kept, so publishing for them costs one dictionary lookup.
///
/// ```swift
/// let subscription = feed.subscribe(runID)
/// defer { subscription.finish() }
/// while true {
///     let seen = subscription.generation
///     // read the store, send what changed…
///     if await subscription.next(after: seen, timeout: .seconds(15)) == .closed { break }
/// }
/// ```
final class ChangeFeed<Key: Hashable & Sendable>: Sendable {
    private struct Entry {
        var generation: UInt64 = 0
        /// The subscriptions following the key, with the waiter of each that is waiting now.
        var subscribers: [Int: CheckedContinuation<Void, Never>?] = [:]
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var nextID = 0
        /// Subscriptions closed (they stop waiting for good) or cancelled before they waited.
        var closed: Set<Int> = []
    }

    private let state = Mutex(State())

    /// An empty feed.
    init() {}

    /// Tells the key's readers that it changed.
    func publish(_ key: Key) {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard var entry = state.entries[key] else { return [] }
            entry.generation &+= 1
            var waiting: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in entry.subscribers {
                if let waiter { waiting.append(waiter) }
                entry.subscribers[id] = .some(nil)
            }
            state.entries[key] = entry
            return waiting
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Starts following a key; call ``ChangeSubscription/finish()`` when done.
    func subscribe(_ key: Key) -> ChangeSubscription<Key> {
        let id = state.withLock { state in
            state.nextID += 1
            let id = state.nextID
            state.entries[key, default: Entry()].subscribers[id] = .some(nil)
            return id
        }
        return ChangeSubscription(feed: self, key: key, id: id)
    }

    /// How many subscriptions follow keys now (for tests and metrics).
    var subscriptionCount: Int {
        state.withLock { $0.entries.values.reduce(0) { $0 + $1.subscribers.count } }
    }

    fileprivate func generation(_ key: Key) -> UInt64 {
        state.withLock { $0.entries[key]?.generation ?? 0 }
    }

    fileprivate func isClosed(_ id: Int) -> Bool {
        state.withLock { $0.closed.contains(id) }
    }

    /// Returns when the key's generation is no longer `seen`, the subscription is closed, or the task is
    /// cancelled.
    fileprivate func wait(_ key: Key, id: Int, after seen: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    // A cancellation that came before this registration found no waiter to resume.
                    guard !Task.isCancelled, !state.closed.contains(id), var entry = state.entries[key],
                        entry.generation == seen,
                        entry.subscribers[id] != nil
                    else { return true }
                    entry.subscribers[id] = continuation
                    state.entries[key] = entry
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            wake(key, id: id, close: false)
        }
    }

    /// Resumes a subscription's waiter; with `close`, the subscription stops waiting for good.
    fileprivate func wake(_ key: Key, id: Int, close: Bool) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if close { state.closed.insert(id) }
            guard var entry = state.entries[key], let waiter = entry.subscribers[id] ?? nil else { return nil }
            entry.subscribers[id] = .some(nil)
            state.entries[key] = entry
            return waiter
        }
        waiter?.resume()
    }

    fileprivate func unsubscribe(_ key: Key, id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed.remove(id)
            guard var entry = state.entries[key], let removed = entry.subscribers.removeValue(forKey: id) else {
                return nil
            }
            state.entries[key] = entry.subscribers.isEmpty ? nil : entry
            return removed
        }
        waiter?.resume()
    }
}

/// One reader's place in a ``ChangeFeed``; it leaves the feed on ``finish()`` or, at the latest, when the
/// last reference goes.
final class ChangeSubscription<Key: Hashable & Sendable>: Sendable {
    /// Why ``next(after:timeout:)`` returned.
    enum Wake: Sendable, Equatable {
        /// The key changed since the generation given.
        case changed
        /// The time ran out without a change.
        case timedOut
        /// The subscription was closed (the connection went away, the server is shutting down) or the task
        /// was cancelled.
        case closed
    }

    private let feed: ChangeFeed<Key>
    private let key: Key
    private let id: Int

    fileprivate init(feed: ChangeFeed<Key>, key: Key, id: Int) {
        self.feed = feed
        self.key = key
        self.id = id
    }

    deinit { finish() }

    /// The key's generation now: read it before reading the store, and pass it to ``next(after:timeout:)``
    /// so a change made in between is not missed.
    var generation: UInt64 { feed.generation(key) }

    /// Waits until the key changes after `seen`, at most `timeout`.
    func next(after seen: UInt64, timeout: Duration) async -> Wake {
        let woken = await withTaskGroup(of: Bool.self) { group in
            group.addTask { [feed, key, id] in
                await feed.wait(key, id: id, after: seen)
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if feed.isClosed(id) || Task.isCancelled { return .closed }
        return woken ? .changed : .timedOut
    }

    /// Stops the subscription's waits for good (from another task: a closed connection, a shutdown).
    func close() {
        feed.wake(key, id: id, close: true)
    }

    /// Whether ``close()`` was called.
    var isClosed: Bool { feed.isClosed(id) }

    /// Leaves the feed (again does nothing).
    func finish() {
        feed.unsubscribe(key, id: id)
    }
}
