import Dispatch
import Foundation
import QuillCore
import Synchronization

/// Runs a command the way a shell runs it in the foreground, while copying its output.
///
/// The command gets its own process group, an empty signal mask and default signal actions (see ``Spawn``),
/// quill's standard input, and, when quill is the terminal's foreground job, the terminal: Ctrl-C and
/// Ctrl-Z reach the command, `input()` and debuggers read the terminal. Its standard output and error are a
/// pseudo-terminal where quill's are a terminal (so colors and line buffering stay as they would be) and a
/// pipe otherwise; quill copies them to its own and to a callback. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1
/// and SIGUSR2 sent to quill go to the command's whole process group. quill waits for the command only,
/// not for background processes it leaves behind.
enum ChildProcess {
    enum Outcome: Equatable {
        case exited(Int32)
        case signalled(Int32)
        case failedToStart(String)
    }

    /// Signals quill passes on to the command's process group.
    static let forwardedSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

    /// How long quill keeps copying output after the command exited, while background processes it started
    /// still write: until nothing came for `quietAfterExit`, at most `drainAfterExit`.
    static let quietAfterExit: Int32 = 100
    static let drainAfterExit: Duration = .seconds(2)

    /// Runs `arguments` (the first searched on PATH), with extra environment variables, until it ends.
    ///
    /// - Parameters:
    ///   - output: Called with each chunk of output; `true` for standard error.
    static func run(
        _ arguments: [String],
        environment extra: [String: String],
        output: ([UInt8], Bool) -> Void
    ) -> Outcome {
        guard let executable = arguments.first else { return .failedToStart("no command given") }
        let inheritedIgnored = Spawn.ignoredSignals()
        let terminal = ControllingTerminal.open()
        defer { terminal?.close() }
        var streams = OutputStreams.open()
        defer { streams.closeAll() }

        let target = SignalTarget()
        let handlers = SignalHandlers.install(
            forwarding: forwardedSignals.filter { !inheritedIgnored.contains($0) },
            target: target,
            terminal: terminal
        )
        defer { handlers.uninstall() }

        let environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        let giveTerminal = terminal?.wasForeground == true ? terminal : nil
        let pid: pid_t
        do {
            pid = try Spawn.start(
                arguments,
                environment: environment,
                options: Spawn.Options(
                    standardOutput: streams.childOutput,
                    standardError: streams.childError,
                    foregroundTerminal: giveTerminal?.descriptor,
                    inheritedIgnored: inheritedIgnored
                )
            )
        } catch {
            return .failedToStart(startFailure(executable, code: error.code))
        }
        streams.closeChildSides()
        if let giveTerminal, PlatformSymbols.addTerminalForeground == nil { giveTerminal.giveForeground(to: pid) }
        target.started(pid)

        let status = waitAndCopy(pid: pid, streams: &streams, terminal: terminal, output: output) {
            !inheritedIgnored.contains(SIGTSTP)
        }
        terminal?.reclaim(from: pid, endedBySignal: status.terminationSignal != nil)
        if let signal = status.terminationSignal { return .signalled(signal) }
        return .exited(status.exitCode)
    }

    private static func startFailure(_ executable: String, code: Int32) -> String {
        switch code {
        case ENOENT: return "command '\(executable)' not found"
        case EACCES: return "could not start '\(executable)': permission denied"
        default: return "could not start '\(executable)': \(String(cString: strerror(code)))"
        }
    }

    /// Waits for the command on a thread of its own (which also does job control) while copying output here.
    private static func waitAndCopy(
        pid: pid_t,
        streams: inout OutputStreams,
        terminal: ControllingTerminal?,
        output: ([UInt8], Bool) -> Void,
        quillMayStop: @escaping @Sendable () -> Bool
    ) -> WaitStatus {
        var wake: [Int32] = [-1, -1]
        guard pipe(&wake) == 0 else { return Spawn.wait(pid) }
        defer {
            close(wake[0])
            close(wake[1])
        }
        let wakeWrite = wake[1]
        let waiter = Thread {
            var raw: Int32 = 0
            while true {
                if waitpid(pid, &raw, WUNTRACED) < 0 {
                    if errno == EINTR { continue }
                    raw = 0xff00  // the status is lost (cannot happen with SIGCHLD not ignored): exit code 255
                    break
                }
                let status = WaitStatus(raw: raw)
                guard status.isStopped else { break }
                terminal?.commandStopped(group: pid, signal: status.stopSignal, quillMayStop: quillMayStop())
            }
            _ = withUnsafeBytes(of: raw) { write(wakeWrite, $0.baseAddress, 4) }
        }
        waiter.start()

        let clock = ContinuousClock()
        var ended: WaitStatus?
        var drainDeadline = clock.now
        while true {
            var descriptors = streams.readable.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            if ended == nil { descriptors.append(pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0)) }
            let timeout: Int32 = ended == nil ? (streams.hasTerminal ? 250 : 1000) : quietAfterExit
            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0, errno != EINTR { break }
            if ended != nil, ready == 0 { break }
            var finished: [Int] = []
            for (index, descriptor) in descriptors.enumerated() where descriptor.revents != 0 {
                if descriptor.fd == wake[0] {
                    var raw: Int32 = 0
                    _ = withUnsafeMutableBytes(of: &raw) { read(wake[0], $0.baseAddress, 4) }
                    ended = WaitStatus(raw: raw)
                    drainDeadline = clock.now + drainAfterExit
                } else if !streams.copy(index, output: output) {
                    finished.append(index)
                }
            }
            streams.remove(finished)
            if ended != nil, streams.readable.isEmpty || clock.now >= drainDeadline { break }
            if ended == nil {
                // The terminal told the command of a new size before quill saw it; tell it again now that
                // its output (the pseudo-terminal) has the new size too.
                if streams.followWindowSize() { _ = kill(-pid, SIGWINCH) }
            }
        }
        if let ended { return ended }
        return Spawn.wait(pid)
    }
}

/// The command's process group, once started, for the signal handlers.
final class SignalTarget: Sendable {
    private let group = Atomic<Int32>(0)
    private let pending = Atomic<Int32>(0)

    /// Records the group and delivers a signal that came before it existed.
    func started(_ pid: pid_t) {
        group.store(pid, ordering: .sequentiallyConsistent)
        let early = pending.exchange(0, ordering: .sequentiallyConsistent)
        if early != 0 { send(early) }
    }

    /// Sends a signal to the whole group; a stopped group is continued so that it can act on it.
    func send(_ number: Int32) {
        let pid = group.load(ordering: .sequentiallyConsistent)
        guard pid > 0 else {
            pending.store(number, ordering: .sequentiallyConsistent)
            return
        }
        _ = kill(-pid, number)
        if number != SIGCONT { _ = kill(-pid, SIGCONT) }
    }

    /// The group, or 0 before the command started.
    var pid: pid_t { group.load(ordering: .sequentiallyConsistent) }
}

/// quill's signal handling while a command runs: forwarded signals, SIGCONT (job control), SIGTTOU and
/// SIGPIPE ignored.
struct SignalHandlers {
    private let sources: [any DispatchSourceSignal]
    private let ignored: [Int32]

    static func install(forwarding: [Int32], target: SignalTarget, terminal: ControllingTerminal?) -> SignalHandlers {
        var sources: [any DispatchSourceSignal] = []
        for number in forwarding {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { target.send(number) }
            source.resume()
            sources.append(source)
        }
        let continued = DispatchSource.makeSignalSource(signal: SIGCONT, queue: .global())
        continued.setEventHandler {
            let pid = target.pid
            guard pid > 0 else { return }
            if let terminal { terminal.continued(group: pid) } else { _ = kill(-pid, SIGCONT) }
        }
        continued.resume()
        sources.append(continued)
        signal(SIGTTOU, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        // An ignored SIGCHLD (inherited) would let the kernel reap the command before quill learns its status.
        signal(SIGCHLD, SIG_DFL)
        return SignalHandlers(sources: sources, ignored: forwarding + [SIGTTOU])
    }

    func uninstall() {
        for source in sources { source.cancel() }
        for number in ignored { signal(number, SIG_DFL) }
    }
}
