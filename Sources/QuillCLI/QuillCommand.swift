public import ArgumentParser
import Foundation
import QuillCore

/// The `quill` command: tracks runs on this machine and shows them.
public struct QuillCommand: AsyncParsableCommand, Sendable {
    /// The command's help and subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "quill",
        abstract: "Quill: track, compare and reproduce model training runs.",
        discussion: """
            Runs are kept in run directories under QUILL_HOME (default ~/.quill). A run is named on the \
            command line by its id, a unique id prefix, or its name.
            """,
        version: QuillVersion.current,
        subcommands: [
            RunsCommand.self, ShowCommand.self, CompareCommand.self, MetricsCommand.self, RunCommand.self,
            LogCommand.self, DemoCommand.self, ServeCommand.self, SyncCommand.self, ArtifactsCommand.self,
            LoginCommand.self, KeysCommand.self, OrgsCommand.self, UsersCommand.self, StepsCommand.self,
            SubmitCommand.self, SweepCommand.self, JobsCommand.self, JobCommand.self, WaitCommand.self,
            CancelCommand.self,
            RetryCommand.self, WorkerCommand.self, DevicesCommand.self, LogsCommand.self, ImportCommand.self,
            DbCommand.self,
        ]
    )

    /// Creates the command (argument-parser calls this).
    public init() {}

    /// Parses the arguments, runs the subcommand and exits: `error: …` on standard error (or an error object
    /// with `--json`) and a non-zero status when it fails.
    public static func runAndExit(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        let json = arguments.contains("--json")
        var parsed: (any ParsableCommand)?
        do {
            var command = try parseAsRoot(arguments)
            parsed = command
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Platform.exit(0)
        } catch let error as QuillError {
            report(error, json: json)
            Platform.exit(error.code == .invalidArgument ? 2 : 1)
        } catch let exitCode as ExitCode {
            Platform.exit(exitCode.rawValue)
        } catch {
            if let parsed, let explained = CommandErrors.explain(error, command: parsed) {
                report(explained, json: json)
                Platform.exit(1)
            }
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                // --help and --version
                Console.print(message)
                Platform.exit(0)
            }
            let line = CommandErrors.usageMessage(message, arguments: arguments)
            if json {
                Console.printJSON(["error": ["code": "invalid_argument", "message": .string(line)]])
            } else {
                Console.printError("error: " + line)
            }
            Platform.exit(code.rawValue)
        }
    }

    static func report(_ error: QuillError, json: Bool) {
        if json {
            Console.printJSON([
                "error": ["code": .string(error.code.description), "message": .string(error.description)]
            ])
        } else {
            Console.printError("error: \(error.description)")
        }
    }
}

/// The version of Quill.
enum QuillVersion {
    static let current = "0.1.0"
}

/// Options every command that reads runs takes.
struct HomeOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The Quill home holding the runs (default: $QUILL_HOME or ~/.quill).", valueName: "dir")
    )
    var home: String?

    var quillHome: QuillHome {
        if let home { return QuillHome(path: home) }
        return QuillHome.fromEnvironment()
    }

    var store: LocalRunStore { LocalRunStore(home: quillHome) }
}

/// `--server` and `--local`, for the commands that read runs.
struct ServerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Read runs from this server instead of local run directories (default: $QUILL_TRACKING_URI when set).",
            valueName: "url"
        )
    )
    var server: String?

    @Flag(help: "Read local run directories even when QUILL_TRACKING_URI is set.")
    var local = false

    func validate() throws {
        if !local { try ServerURL.check(server: server) }
    }
}

/// Checks the server URL a command was given before anything is sent, naming where it came from.
enum ServerURL {
    /// Checks `--server` when given, else `QUILL_TRACKING_URI` when set.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` when the URL has no
    ///   `http://` or `https://` scheme.
    static func check(server: String?) throws {
        let environment = ProcessInfo.processInfo.environment["QUILL_TRACKING_URI"].flatMap { $0.isEmpty ? nil : $0 }
        guard let url = server ?? environment else { return }
        let lowered = url.lowercased()
        guard !lowered.hasPrefix("http://"), !lowered.hasPrefix("https://") else { return }
        let source = server != nil ? "--server" : "QUILL_TRACKING_URI"
        let suggestion = url.contains("://") ? "http://HOST:PORT" : "http://" + url
        throw QuillError(.invalidArgument, "\(source) needs a scheme, e.g. \(suggestion)")
    }
}
