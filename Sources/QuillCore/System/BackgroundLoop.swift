import Foundation

/// A thread of its own that runs a closure, waits, and runs it again, until the closure or ``stop()`` ends it.
///
/// For periodic work that must go on while the caller's threads are busy: a step's lease heartbeat (the
/// step's `create` may block every thread of Swift's cooperative pool), the SDK's system sampler and its
/// run streamer (a training loop must never wait for them). The closure returns how long to wait before its
/// next run, or `nil` to end the loop. ``stop()`` wakes a waiting loop at once; the closure then runs one
/// last time with `stopping` set, so work that must happen at the end (a last upload) happens there, and
/// work that must not (a heartbeat) returns `nil` at once.
///
/// ```swift
/// let sampler = BackgroundLoop.start(name: "quill-system-sampler", after: .seconds(10)) { stopping in
///     if stopping { return nil }
///     takeSample()
///     return .seconds(10)
/// }
/// // …
/// sampler.stop()
/// sampler.join()
/// ```
///
/// The loop holds the closure until it ends: call ``stop()`` (or let the closure return `nil`), or the
/// thread lives as long as the process.
// @unchecked Sendable: `stopRequested` and `finished` are only read and written while holding `condition`;
// `body` is immutable.
package final class BackgroundLoop: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopRequested = false
    private var finished = false
    private let body: @Sendable (_ stopping: Bool) -> Duration?

    private init(body: @escaping @Sendable (_ stopping: Bool) -> Duration?) {
        self.body = body
    }

    /// Starts a loop on a new thread.
    ///
    /// - Parameters:
    ///   - name: The thread's name, as debuggers and `top -H` show it.
    ///   - delay: How long to wait before the first run; zero runs it at once.
    ///   - body: The work. It gets `true` on its last run, after ``stop()``; it returns how long to wait
    ///     before the next run (zero runs it again at once), or `nil` to end the loop.
    /// - Returns: The running loop.
    package static func start(
        name: String,
        after delay: Duration = .zero,
        _ body: @escaping @Sendable (_ stopping: Bool) -> Duration?
    ) -> BackgroundLoop {
        let loop = BackgroundLoop(body: body)
        let thread = Thread { loop.run(firstDelay: delay) }
        thread.name = name
        thread.start()
        return loop
    }

    /// Asks the loop to end: a waiting loop wakes now and runs its closure a last time with `stopping` set.
    /// Returns at once; ``join(timeout:)`` waits for the end.
    package func stop() {
        condition.lock()
        stopRequested = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the loop has ended (its closure returned `nil`, or its last run after ``stop()`` returned).
    ///
    /// - Parameter timeout: The longest wait; `nil` waits as long as it takes.
    /// - Returns: Whether the loop has ended.
    @discardableResult
    package func join(timeout: Duration? = nil) -> Bool {
        let deadline = timeout.map { Date().addingTimeInterval(Self.seconds($0)) }
        condition.lock()
        defer { condition.unlock() }
        while !finished {
            if let deadline {
                if !condition.wait(until: deadline) && Date() >= deadline { return finished }
            } else {
                condition.wait()
            }
        }
        return true
    }

    /// Whether the loop has ended.
    package var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return finished
    }

    private func run(firstDelay: Duration) {
        var delay: Duration? = firstDelay
        while let wait = delay {
            condition.lock()
            if !stopRequested && wait > .zero {
                let deadline = Date().addingTimeInterval(Self.seconds(wait))
                while !stopRequested && condition.wait(until: deadline) {}
            }
            let stopping = stopRequested
            condition.unlock()
            delay = body(stopping)
            if stopping { break }
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
