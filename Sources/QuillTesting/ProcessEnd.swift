public import Foundation

/// Waiting for test processes without trusting Foundation's exit notice, and without holding the cooperative pool.
///
/// On Linux, `Process` learns that a child ended when a socket the child inherited closes. Foundation does not
/// close other descriptors when it spawns, so a process another test starts at the same moment can inherit that
/// socket too; the end is then noticed only when that other process ends (seen here: a `quill serve` of one test
/// holding the sockets of two processes of another). `waitUntilExit()` in that case blocks its thread, spinning a
/// CPU, for as long as the other process lives. Called on one of the cooperative pool's threads (one per core, two
/// here), two such waits stop every other test, including the one whose process holds the sockets: the parallel
/// run hung (the stop's CI, 1 Dec). So:
/// - ``stop(grace:)`` (for `deinit`s and `defer`s) waits for the process itself to end, read from `/proc`, with a
///   bound, and leaves the reaping to Foundation;
/// - ``ended()`` waits for Foundation's notice (for the exit status) without holding a thread.
extension Process {
    /// Whether the process has ended: it is gone or a zombie (not yet reaped). Read from `/proc`, so it does not
    /// depend on Foundation having noticed the end; elsewhere it is `!isRunning`.
    public var hasEnded: Bool {
        #if os(Linux)
        guard
            let stat = try? String(contentsOfFile: "/proc/\(processIdentifier)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state == "Z" || state == "X"
        #else
        return !isRunning
        #endif
    }

    /// Blocks until ``hasEnded`` or until `timeout` seconds have passed, polling every 5 ms; returns whether it
    /// ended.
    @discardableResult
    public func waitForEnd(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !hasEnded {
            if Date() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    /// Ends a process the caller started, from synchronous code: SIGTERM, up to `grace` seconds for it to end, then
    /// SIGKILL and the wait for that. Returns once the process has ended (its status may be read later, when
    /// Foundation has noticed). Does nothing when it was never started or has ended already.
    public func stop(grace: TimeInterval = 10) {
        guard processIdentifier > 0, !hasEnded else { return }
        terminate()
        if waitForEnd(timeout: grace) { return }
        kill(processIdentifier, SIGKILL)
        waitForEnd(timeout: 30)
    }

    /// Waits until Foundation has noticed the end (so `terminationStatus` is set), polling between short sleeps
    /// instead of blocking a thread. Returns at once when the task is cancelled.
    public func ended() async {
        while isRunning, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
