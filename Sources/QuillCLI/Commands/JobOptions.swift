import ArgumentParser
import Foundation
import QuillAPI
import QuillCore
import QuillJobs
import QuillSlurm

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

    @Option(
        help: ArgumentHelp(
            "Where the job runs: local (a worker's process, the default) or slurm (a SLURM batch job that a `quill worker --executor slurm` submits).",
            valueName: "local|slurm"
        )
    )
    var executor: String?

    @Option(help: ArgumentHelp("With --executor slurm: the partition (sbatch --partition).", valueName: "name"))
    var partition: String?

    @Option(
        help: ArgumentHelp(
            "With --executor slurm: SLURM's time limit (sbatch --time: M, H:M:S, D-H:M…; 02:00:00 is two hours).",
            valueName: "limit"
        )
    )
    var time: String?

    @Option(
        help: ArgumentHelp("With --executor slurm: generic resources, e.g. gpu:1 (sbatch --gres).", valueName: "gres")
    )
    var gres: String?

    @Option(help: ArgumentHelp("With --executor slurm: CPUs for the job (sbatch --cpus-per-task).", valueName: "N"))
    var cpus: Int?

    @Option(help: ArgumentHelp("With --executor slurm: memory, e.g. 16G (sbatch --mem).", valueName: "size"))
    var mem: String?

    @Option(help: ArgumentHelp("With --executor slurm: the account charged (sbatch --account).", valueName: "name"))
    var account: String?

    @Option(help: ArgumentHelp("With --executor slurm: the quality of service (sbatch --qos).", valueName: "name"))
    var qos: String?

    @Option(
        name: .customLong("sbatch-arg"),
        parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "With --executor slurm: one more sbatch option, e.g. --sbatch-arg=--constraint=a100 (repeatable).",
            valueName: "option"
        )
    )
    var sbatchArguments: [String] = []

    func validate() throws {
        if let timeout, JobOutput.seconds(timeout) == nil {
            throw ValidationError("--timeout takes a duration such as 90s, 15m or 2h, not '\(timeout)'")
        }
        _ = try submission(argv: ["x"])
    }

    /// The SLURM parameters of `--executor slurm`, `nil` for a local job.
    ///
    /// - Throws: `ValidationError` for an unknown executor, SLURM options without `--executor slurm`, or
    ///   invalid SLURM options.
    func slurmParameters() throws -> SlurmParameters? {
        let parameters = SlurmParameters(
            partition: partition,
            time: time,
            gres: gres,
            cpus: cpus,
            mem: mem,
            account: account,
            qos: qos,
            extraArguments: sbatchArguments
        )
        switch executor {
        case nil, "local":
            guard parameters == SlurmParameters() else {
                throw ValidationError(
                    "--partition, --time, --gres, --cpus, --mem, --account, --qos and --sbatch-arg are SLURM's; add --executor slurm"
                )
            }
            return nil
        case "slurm":
            do {
                try parameters.validate()
            } catch let error as QuillError {
                throw ValidationError(error.message)
            }
            return parameters
        case let other?:
            throw ValidationError("--executor takes local or slurm, not '\(other)'")
        }
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
        if let slurm = try slurmParameters() {
            var tags = body.tags ?? [:]
            var labels = body.labels ?? []
            try SlurmJobSpec.apply(slurm, tags: &tags, labels: &labels)
            body.tags = tags
            body.labels = labels
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
