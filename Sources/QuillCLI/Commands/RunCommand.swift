import ArgumentParser
import Dispatch
import Foundation
import Quill
import QuillCore

/// `quill run -- COMMAND ARGS…`: runs any command as a run.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command as a tracked run, capturing its output and exit status.",
        discussion: """
            The command's standard output and error are shown as usual and also written to the run's \
            output.log. The command gets QUILL_RUN_DIR and QUILL_RUN_ID, so it can log into the same run \
            (with the Swift SDK, `quill log`, or by appending lines to $QUILL_RUN_DIR/metrics.jsonl). The run \
            ends completed on exit code 0, failed on any other code, killed when SIGINT, SIGTERM, SIGHUP or \
            SIGKILL ended the command, crashed on any other signal. quill exits with the command's status.

            The command runs as it would from the shell: in the foreground of the terminal (Ctrl-C, Ctrl-Z, \
            input() and debuggers work), with output that is still a terminal, and in its own process group: \
            SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to quill reach the whole group. quill \
            waits for the command, not for background processes it leaves running. While it runs, quill \
            writes a heartbeat into meta.json every 10 s, so a quill that was killed leaves a crashed run \
            with about the right duration.

            With --attach, quill starts no run: it runs the command in the run directory $QUILL_RUN_DIR that a \
            job's worker made (the batch script of a SLURM job does this on the compute node), writing the \
            command's output into the run's output.log (unless quill's own output already goes there), this \
            machine's system metrics into system.jsonl and the exit code or signal into meta.json. The worker \
            owns that run: it uploads the directory and sets the run's status, so quill --attach never talks \
            to a server.

            Example: quill run --project mnist --name baseline --tag team=vision --config lr=0.001 -- python train.py
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Option(name: .shortAndLong, help: "The run's name (a random one by default).")
    var name: String?

    @Option(name: .shortAndLong, help: "The project (default: $QUILL_PROJECT or 'default').")
    var project: String?

    @Option(name: .shortAndLong, help: "A tag: a label, or key=value. Repeatable.")
    var tag: [String] = []

    @Option(
        name: .shortAndLong,
        help: "A config value, key=value; the value is read as JSON when it parses, else as text. Repeatable."
    )
    var config: [String] = []

    @Option(name: .long, help: "The run's kind: training, evaluation, compile, quantize, benchmark, or any label.")
    var kind: String = "training"

    @Flag(
        help:
            "Run in the existing run directory $QUILL_RUN_DIR (a job's, made by its worker) instead of starting a run."
    )
    var attach = false

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        try CommandAfterDashes.validate(command, subcommand: "run", help: Self.self)
        _ = try parsedConfig()
        _ = try tag.map(TagArgument.parse)
        if attach, name != nil || project != nil || !tag.isEmpty || !config.isEmpty {
            throw ValidationError(
                "--attach runs in the job's existing run; --name, --project, --tag and --config do not apply"
            )
        }
    }

    private var commandLine: [String] { CommandAfterDashes.arguments(command) }

    func parsedConfig() throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for item in config {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("--config takes key=value, got '\(item)'")
            }
            result[parts[0]] = (try? JSONParser.parse(parts[1])) ?? .string(parts[1])
        }
        return result
    }

    func run() async throws {
        var options = RunOptions.fromEnvironment()
        options.home = homeOptions.quillHome
        options.attachToEnvironmentRun = false
        options.handleSignals = false
        let arguments = commandLine
        let run: Run
        var environment = ["QUILL_HOME": homeOptions.quillHome.path]
        // Where quill's own output already is the run's output.log (a SLURM job's output file), the command's
        // output reaches the log through it; appending it too would write every line twice.
        let logged: (output: Bool, error: Bool)
        if attach {
            let directory = try Self.attachedDirectory()
            run = try Quill.attachForCommand(to: directory, options: options)
            environment = [:]
            logged = (Self.isFile(STDOUT_FILENO, directory.logPath), Self.isFile(STDERR_FILENO, directory.logPath))
            let host = ProcessInfo.processInfo.hostName
            Console.printError("quill: run \(run.id) on \(host) (pid \(getpid())): \(arguments.joined(separator: " "))")
        } else {
            run = try Quill.startRun(
                project: project,
                name: name,
                config: try parsedConfig(),
                tags: try tag.map { try TagArgument.parse($0).sdkForm },
                kind: RunKind(kind),
                options: options
            )
            Console.printError(
                "quill: run \(run.name) (\(run.id)) in project \(run.project.displayName): \(arguments.joined(separator: " "))"
            )
            try run.flush()
            logged = (false, false)
        }
        environment["QUILL_RUN_DIR"] = run.directory.path
        environment["QUILL_RUN_ID"] = run.id.rawValue
        let files = RunFileGuard.Shared(try RunFileGuard(directory: run.directory))
        let heartbeat = BackgroundLoop.start(name: "quill-run-heartbeat", after: Self.firstHeartbeat) { stopping in
            if stopping { return nil }
            files.check(heartbeat: Date())
            return Self.heartbeatInterval
        }

        let outcome = ChildProcess.run(
            arguments,
            environment: environment,
            output: { bytes, isError in
                if !(isError ? logged.error : logged.output) { try? run.appendOutput(bytes) }
            }
        )
        heartbeat.stop()
        heartbeat.join()
        files.check(heartbeat: nil, final: true)
        if attach {
            try Self.finishAttached(run, outcome)
            return
        }
        switch outcome {
        case .failedToStart(let message):
            try run.finish(.failed, error: message, exitCode: 127, signal: nil)
            Console.printError("error: \(message); check the command name and your PATH")
            throw ExitCode(127)
        case .exited(let code):
            try run.finish(
                code == 0 ? .completed : .failed,
                error: code == 0 ? nil : "exited with code \(code)",
                exitCode: code,
                signal: nil
            )
            Console.printError("quill: run \(run.name) \(code == 0 ? "completed" : "failed (exit code \(code))")")
            if code != 0 { throw ExitCode(code) }
        case .signalled(let signal):
            let killed = [SIGINT, SIGTERM, SIGHUP, SIGKILL, SIGQUIT].contains(signal)
            let status: RunStatus = killed ? .killed : .crashed
            try run.finish(status, error: "ended by signal \(signal)", exitCode: nil, signal: signal)
            Console.printError("quill: run \(run.name) \(status.rawValue) (signal \(signal))")
            throw ExitCode(128 + signal)
        }
    }

    /// The run directory `--attach` runs in: `$QUILL_RUN_DIR`.
    private static func attachedDirectory() throws -> RunDirectory {
        guard let path = ProcessInfo.processInfo.environment["QUILL_RUN_DIR"], !path.isEmpty else {
            throw QuillError(
                .invalidArgument,
                "quill run --attach needs QUILL_RUN_DIR, the run directory a job's worker made; without --attach, quill run starts a run"
            )
        }
        return RunDirectory(path: path)
    }

    /// Ends an attached run: its writer and sampler stop, the exit code or signal goes into `meta.json` (the
    /// status stays its owner's), and quill exits as the command did, so the scheduler sees its status.
    private static func finishAttached(_ run: Run, _ outcome: ChildProcess.Outcome) throws {
        let (code, signal): (Int32?, Int32?) =
            switch outcome {
            case .failedToStart: (127, nil)
            case .exited(let code): (code, nil)
            case .signalled(let signal): (nil, signal)
            }
        try run.finish(.running, error: nil, exitCode: code, signal: signal)
        _ = try? run.directory.updateMeta { meta in
            meta.exitCode = code
            meta.signal = signal
        }
        switch outcome {
        case .failedToStart(let message):
            Console.printError("error: \(message); check the command name and the PATH on this node")
            throw ExitCode(127)
        case .exited(let code):
            Console.printError("quill: the command exited with code \(code)")
            if code != 0 { throw ExitCode(code) }
        case .signalled(let signal):
            Console.printError("quill: the command ended by signal \(signal)")
            throw ExitCode(128 + signal)
        }
    }

    /// Whether descriptor `fd` is the file at `path`.
    private static func isFile(_ fd: Int32, _ path: String) -> Bool {
        var opened = stat()
        var named = stat()
        guard fstat(fd, &opened) == 0, stat(path, &named) == 0 else { return false }
        return opened.st_dev == named.st_dev && opened.st_ino == named.st_ino
    }

    /// When the first heartbeat is written: early, so a quill killed in its first seconds leaves a useful end.
    static let firstHeartbeat: Duration = .seconds(1)
    /// How often the heartbeat is written after the first.
    static let heartbeatInterval: Duration = .seconds(10)
}
