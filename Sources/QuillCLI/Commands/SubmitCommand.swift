import ArgumentParser
import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// `quill submit [options] -- COMMAND ARGS…`: queues a job on a server.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Queue a command as a job on a server; a worker runs it and it becomes a run.",
        discussion: """
            Prints the job's id and its run's id. `quill wait ID` follows it, `quill job ID` shows it, \
            `quill cancel ID` stops it. Durations take s, m, h or d (90s, 15m, 2h).
            """
    )

    @OptionGroup var options: AccountServerOptions

    @Option(help: "A name for the job and its run (default: the command's name).")
    var name: String?

    @Option(help: "The project: a name, or namespace/slug (default: default).")
    var project: String?

    @Option(name: .customLong("tag"), help: ArgumentHelp("A tag: a label or key=value (repeatable).", valueName: "tag"))
    var tags: [String] = []

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("A config value, key=value (repeatable).", valueName: "k=v")
    )
    var config: [String] = []

    @Option(help: ArgumentHelp("The working directory on the worker.", valueName: "dir"))
    var workdir: String?

    @Option(
        name: .customLong("env"),
        help: ArgumentHelp("An environment variable, K=V (repeatable).", valueName: "K=V")
    )
    var environment: [String] = []

    @Option(help: "GPUs the job needs.")
    var gpus: Int?

    @Option(help: "The device (worker name) that must run it.")
    var device: String?

    @Option(
        name: .customLong("label"),
        help: ArgumentHelp("A label the worker must have (repeatable).", valueName: "label")
    )
    var labels: [String] = []

    @Option(help: "Higher runs first (default 0).")
    var priority: Int?

    @Option(help: "Attempts before a job whose worker is lost fails (default 3).")
    var maxAttempts: Int?

    @Option(help: ArgumentHelp("How long one attempt may run (90s, 15m, 2h).", valueName: "duration"))
    var timeout: String?

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        try CommandAfterDashes.validate(command, subcommand: "submit", help: Self.self)
        if let timeout, JobOutput.seconds(timeout) == nil {
            throw ValidationError("--timeout takes a duration such as 90s, 15m or 2h, not '\(timeout)'")
        }
    }

    /// The command without the `--` that separates it.
    var arguments: [String] { CommandAfterDashes.arguments(command) }

    func run() async throws {
        let server = try ServerClient(server: options.server)
        var body = APIJobSubmit(argv: arguments, project: project)
        body.name = name
        body.workdir = workdir
        body.gpus = gpus
        body.device = device
        body.labels = labels.isEmpty ? nil : labels
        body.priority = priority
        body.maxAttempts = maxAttempts
        body.timeoutSeconds = timeout.flatMap(JobOutput.seconds)
        if !environment.isEmpty { body.env = try Self.pairs(environment, "--env") }
        if !tags.isEmpty {
            body.tags = Dictionary(
                try tags.map { tag in
                    let parsed = try TagArgument.parse(tag)
                    return (parsed.key, parsed.value ?? "")
                },
                uniquingKeysWith: { _, new in new }
            )
        }
        if !config.isEmpty {
            body.config = try Self.pairs(config, "--config").mapValues { text in
                (try? JSONParser.parse(text)) ?? .string(text)
            }
        }
        let (job, json) = try server.call(APIJob.self, "POST", APIPath.jobs, json: try APIEncoder().encode(body))
        if options.json { return Console.printJSON(json) }
        Console.print("job \(job.id) queued (run \(job.runID)); follow it with `quill wait \(job.id)`")
    }

    /// `key=value` texts as a map; a usage error names the option and the text that is not one.
    static func pairs(_ items: [String], _ option: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("\(option) takes key=value, not '\(item)'")
            }
            result[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return result
    }
}
