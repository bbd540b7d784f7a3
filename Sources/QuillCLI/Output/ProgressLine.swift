import Foundation
import Synchronization

/// A progress report on standard error: a bar redrawn in place on a terminal (at most ten times a second), plain
/// lines every few seconds otherwise (a log file, CI), nothing when disabled (`--json`).
final class ProgressLine: Sendable {
    private struct State {
        var lastDraw = Date.distantPast
        var drawn = false
    }

    private let enabled: Bool
    private let terminal: Bool
    private let interval: TimeInterval
    private let state = Mutex(State())

    /// A progress report; `terminal` is whether standard error is one (plain lines every `interval` otherwise).
    init(enabled: Bool, terminal: Bool = isatty(2) == 1, interval: TimeInterval = 5) {
        self.enabled = enabled
        self.terminal = terminal
        self.interval = terminal ? 0.1 : interval
    }

    /// Shows `done` of `total` with a text after the bar, unless one was shown less than the interval ago
    /// (`force` shows it anyway).
    func update(done: Int, total: Int, _ text: String, force: Bool = false) {
        guard enabled else { return }
        let now = Date()
        let line: String? = state.withLock { state in
            guard force || now.timeIntervalSince(state.lastDraw) >= interval else { return nil }
            state.lastDraw = now
            state.drawn = true
            return terminal
                ? "\r" + Self.bar(done: done, total: total) + " " + text + "\u{1B}[K" : "\(done)/\(total) \(text)\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Ends the bar's line on a terminal.
    func finish() {
        guard enabled, terminal, state.withLock({ $0.drawn }) else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// `[#########-----------]  12/40`.
    static func bar(done: Int, total: Int, width: Int = 24) -> String {
        let filled = total > 0 ? min(width, done * width / total) : width
        let counter = "\(done)/\(total)"
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + counter
    }
}
