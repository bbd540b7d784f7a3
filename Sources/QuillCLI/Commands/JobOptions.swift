import ArgumentParser
import Foundation
import QuillAPI
import QuillCore

/// What a job needs and how it is queued: the options `quill submit` and `quill sweep` share.
struct JobOptions: ParsableArguments {
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

    func validate() throws {
        if let timeout, JobOutput.seconds(timeout) == nil {
            throw ValidationError("--timeout takes a duration such as 90s, 15m or 2h, not '\(timeout)'")
        }
        _ = try submission(argv: ["x"])
    }

    /// The body that queues `argv` with these options.
    func submission(argv: [String]) throws -> APIJobSubmit {
        var body = APIJobSubmit(argv: argv, project: project)
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
            body.config = try Self.pairs(config, "--config").mapValues(Self.configValue)
        }
        return body
    }

    /// A config value as text on the command line: JSON when it parses as JSON (numbers, booleans, lists),
    /// else the text itself.
    static func configValue(_ text: String) -> JSONValue {
        (try? JSONParser.parse(text)) ?? .string(text)
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
