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

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        try CommandAfterDashes.validate(command, subcommand: "run", help: Self.self)
        _ = try parsedConfig()
        _ = try tag.map(TagArgument.parse)
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
        let run = try Quill.startRun(
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
        let files = RunFileGuard.Shared(try RunFileGuard(directory: run.directory))
        let heartbeat = BackgroundLoop.start(name: "quill-run-heartbeat", after: Self.firstHeartbeat) { stopping in
            if stopping { return nil }
            files.check(heartbeat: Date())
            return Self.heartbeatInterval
        }

        let outcome = ChildProcess.run(
            arguments,
            environment: [
                "QUILL_RUN_DIR": run.directory.path, "QUILL_RUN_ID": run.id.rawValue,
                "QUILL_HOME": homeOptions.quillHome.path,
            ],
            output: { bytes, _ in try? run.appendOutput(bytes) }
        )
        heartbeat.stop()
        heartbeat.join()
        files.check(heartbeat: nil, final: true)
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

    /// When the first heartbeat is written: early, so a quill killed in its first seconds leaves a useful end.
    static let firstHeartbeat: Duration = .seconds(1)
    /// How often the heartbeat is written after the first.
    static let heartbeatInterval: Duration = .seconds(10)
}
