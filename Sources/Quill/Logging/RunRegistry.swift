import Dispatch
import Foundation
import QuillCore
import Synchronization

/// The runs of this process: open ones are closed at exit (crashed) or on SIGINT/SIGTERM (killed);
/// all of them are listed by ``Quill/runsInThisProcess``.
final class RunRegistry: Sendable {
    static let shared = RunRegistry()

    private struct State {
        var open: [ObjectIdentifier: Run] = [:]
        var all: [Run] = []
        var exitHookInstalled = false
        var signalHooksInstalled = false
        var pendingSignal: Int32?
        var signalSources: SignalSources?
    }

    private let state = Mutex(State())

    /// The process that installed the exit hook. A child forked from it inherits the hook and the open runs
    /// but none of their writer threads: finishing them there would wait forever, so the hook does nothing in
    /// any other process (the parent still owns and closes its runs).
    private static let exitHookProcess = Atomic<Int32>(0)

    func add(_ run: Run, handleSignals: Bool) {
        let needsHooks = state.withLock { state -> (exit: Bool, signals: Bool) in
            state.open[ObjectIdentifier(run)] = run
            state.all.append(run)
            let exit = !state.exitHookInstalled
            state.exitHookInstalled = true
            let signals = handleSignals && !state.signalHooksInstalled
            if signals { state.signalHooksInstalled = true }
            return (exit, signals)
        }
        if needsHooks.exit {
            RunRegistry.exitHookProcess.store(getpid(), ordering: .relaxed)
            atexit {
                guard getpid() == RunRegistry.exitHookProcess.load(ordering: .relaxed) else { return }
                RunRegistry.shared.closeAll(
                    status: .crashed,
                    signal: nil,
                    reason: "the process exited without finishing the run"
                )
                // The program exited while a signal was being handled: die of that signal, as it would have.
                if let pending = RunRegistry.shared.pendingSignal {
                    RunRegistry.dieOf(pending)
                }
            }
        }
        if needsHooks.signals { installSignalHandlers() }
    }

    func remove(_ run: Run) {
        _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(run)) }
    }

    var allRuns: [Run] { state.withLock { $0.all } }

    var pendingSignal: Int32? { state.withLock { $0.pendingSignal } }

    /// Finishes every open run with a status; used at exit and on a signal.
    func closeAll(status: RunStatus, signal: Int32?, reason: String) {
        let runs = state.withLock { Array($0.open.values) }
        for run in runs {
            try? run.finish(status, error: reason, exitCode: nil, signal: signal)
        }
    }

    /// Ends the process by a signal, with its default action, so the parent sees the usual status.
    ///
    /// Dispatch signal sources block the signal in every thread; it is unblocked here first.
    static func dieOf(_ number: Int32) {
        signal(number, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(number)
    }

    /// On SIGINT or SIGTERM: close open runs as killed, then die of the same signal as before.
    private func installSignalHandlers() {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            // Only take over signals nobody else handles.
            var current = sigaction()
            sigaction(number, nil, &current)
            guard current.__sigaction_handler.sa_handler == nil else { continue }
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                RunRegistry.shared.state.withLock { $0.pendingSignal = number }
                let name = number == SIGINT ? "SIGINT" : "SIGTERM"
                RunRegistry.shared.closeAll(status: .killed, signal: number, reason: "stopped by \(name)")
                RunRegistry.dieOf(number)
            }
            source.resume()
            sources.append(source)
        }
        let box = SignalSources(sources: sources)
        state.withLock { $0.signalSources = box }
    }
}

/// Keeps the signal sources alive for the life of the process.
// @unchecked Sendable: the array is set once in init and never read or mutated afterwards; it only
// retains the sources.
private final class SignalSources: @unchecked Sendable {
    let sources: [any DispatchSourceSignal]

    init(sources: [any DispatchSourceSignal]) {
        self.sources = sources
    }
}
