package import Foundation

/// Starts a child process the way a shell does: its own process group, an empty signal mask, default signal
/// dispositions, and (when asked) the foreground of the terminal.
///
/// Foundation's `Process` starts children in a new session with the parent thread's signal mask: a child
/// started from a Swift concurrency or Dispatch thread then has SIGINT, SIGTERM and SIGHUP blocked, and no
/// terminal to read. This spawns with `posix_spawnp` and `POSIX_SPAWN_SETSIGMASK`, `POSIX_SPAWN_SETSIGDEF`
/// and `POSIX_SPAWN_SETPGROUP` instead. `quill run` (`ChildProcess`) and the job worker's local executor both
/// start their commands through it.
package enum Spawn {
    /// What the child gets for its standard output and error (standard input is inherited).
    package struct Options {
        /// The file descriptor the child gets as standard output.
        package var standardOutput: Int32
        /// The file descriptor the child gets as standard error.
        package var standardError: Int32
        /// A terminal whose foreground process group becomes the child's group before the command starts.
        package var foregroundTerminal: Int32?
        /// Signals that stay ignored in the child because they were ignored when quill started (`nohup`,
        /// background jobs of a non-interactive shell); every other signal gets its default action.
        package var inheritedIgnored: Set<Int32>
        /// The file descriptor the child gets as standard input, or `nil` to inherit quill's.
        package var standardInput: Int32?
        /// The directory the command starts in, or `nil` for quill's.
        package var workingDirectory: String?

        /// Options for a child.
        package init(
            standardOutput: Int32,
            standardError: Int32,
            foregroundTerminal: Int32? = nil,
            inheritedIgnored: Set<Int32>,
            standardInput: Int32? = nil,
            workingDirectory: String? = nil
        ) {
            self.standardOutput = standardOutput
            self.standardError = standardError
            self.foregroundTerminal = foregroundTerminal
            self.inheritedIgnored = inheritedIgnored
            self.standardInput = standardInput
            self.workingDirectory = workingDirectory
        }
    }

    /// Why a command could not start.
    package struct Failure: Error {
        /// The `errno` of the failed `posix_spawnp`.
        package var code: Int32
    }

    /// The signals ignored by this process right now.
    package static func ignoredSignals() -> Set<Int32> {
        var result: Set<Int32> = []
        for number in 1..<Int32(NSIG) where number != SIGKILL && number != SIGSTOP {
            var current = sigaction()
            guard sigaction(number, nil, &current) == 0 else { continue }
            if Platform.isIgnored(current) { result.insert(number) }
        }
        return result
    }

    /// Starts `arguments` (the first is looked up on PATH) with an environment; returns the child's pid, which
    /// is also its process group id.
    package static func start(
        _ arguments: [String],
        environment: [String: String],
        options: Options
    ) throws(Failure)
        -> pid_t
    {
        var actions = Platform.spawnFileActions()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let input = options.standardInput { posix_spawn_file_actions_adddup2(&actions, input, 0) }
        posix_spawn_file_actions_adddup2(&actions, options.standardOutput, 1)
        posix_spawn_file_actions_adddup2(&actions, options.standardError, 2)
        // Actions run in order: the terminal changes hands before its descriptor is closed.
        if let terminal = options.foregroundTerminal, let setForeground = PlatformSymbols.addTerminalForeground {
            _ = setForeground(&actions, terminal)
        }
        // Only standard input, output and error pass on, as with Foundation's `Process` and Python's
        // `subprocess`: a descriptor quill holds or was handed (Foundation leaks a socket pair whose holder
        // keeps its parent from seeing quill end) must not outlive quill in a background process.
        if let closeFrom = PlatformSymbols.addCloseFrom { _ = closeFrom(&actions, 3) }
        if let directory = options.workingDirectory {
            guard let changeDirectory = PlatformSymbols.addChangeDirectory else { throw Failure(code: ENOSYS) }
            _ = directory.withCString { changeDirectory(&actions, $0) }
        }

        var attributes = Platform.spawnAttributes()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        // SIGPIPE always gets its default action: the Swift runtime may have set it ignored in quill itself.
        for number in options.inheritedIgnored where number != SIGPIPE { sigdelset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        let flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments.first ?? "", &actions, &attributes, argv, envp)
        guard result == 0 else { throw Failure(code: result) }
        return pid
    }
}

extension Spawn {
    /// Blocks until the child `pid` ends (`waitpid`, retried when a signal interrupts it) and returns its status.
    package static func wait(_ pid: pid_t) -> WaitStatus {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0, errno == EINTR {}
        return WaitStatus(raw: raw)
    }
}

/// glibc functions the Swift `Glibc` module does not declare (they need `_GNU_SOURCE` or `_XOPEN_SOURCE`),
/// looked up once at run time; `nil` where the C library lacks them.
package enum PlatformSymbols {
    package typealias FileActionInt = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    package typealias FileActionPath =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    package typealias IntToInt = @convention(c) (Int32) -> Int32
    package typealias NameOfPTY = @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34).
    package static let addCloseFrom: FileActionInt? = symbol("posix_spawn_file_actions_addclosefrom_np")
    /// `posix_spawn_file_actions_addtcsetpgrp_np` (glibc 2.35).
    package static let addTerminalForeground: FileActionInt? = symbol("posix_spawn_file_actions_addtcsetpgrp_np")
    /// `posix_openpt`.
    package static let openPTY: IntToInt? = symbol("posix_openpt")
    /// `unlockpt`.
    package static let unlockPTY: IntToInt? = symbol("unlockpt")
    /// `ptsname_r`.
    package static let nameOfPTY: NameOfPTY? = symbol("ptsname_r")
    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29, macOS 10.15).
    package static let addChangeDirectory: FileActionPath? = symbol("posix_spawn_file_actions_addchdir_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let pointer = dlsym(Platform.defaultSymbolHandle, name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }
}

/// A `waitpid` status.
package struct WaitStatus: Sendable {
    /// The raw status.
    package let raw: Int32

    /// A status as `waitpid` gave it.
    package init(raw: Int32) {
        self.raw = raw
    }

    /// Whether the child stopped (job control) rather than ended.
    package var isStopped: Bool { raw & 0xff == 0x7f }
    /// The signal that stopped it.
    package var stopSignal: Int32 { (raw >> 8) & 0xff }
    /// Whether it exited (rather than being killed by a signal).
    package var exited: Bool { raw & 0x7f == 0 }
    /// Its exit status, when it exited.
    package var exitCode: Int32 { (raw >> 8) & 0xff }
    /// The signal that killed it, when one did.
    package var terminationSignal: Int32? {
        let number = raw & 0x7f
        return number != 0 && number != 0x7f ? number : nil
    }
}
