import ArgumentParser
import Foundation
import QuillCore
import QuillSteps

/// `quill steps`: the cached results of pipeline steps (QuillSteps) under a steps root.
struct StepsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steps",
        abstract: "List, show, graph and remove cached pipeline step results.",
        discussion: """
            Results live under the steps root: --root, else $QUILL_STEPS_ROOT, else $QUILL_HOME/steps. A result \
            is named NAMESPACE/HASH; the namespace may be shortened to its type name (TrainModel) and the hash \
            to a unique prefix.
            """,
        subcommands: [
            StepsListCommand.self, StepsShowCommand.self, StepsDepsCommand.self, StepsRemoveCommand.self,
            StepsGCCommand.self,
        ],
        defaultSubcommand: StepsListCommand.self
    )
}

/// `--root`, for every `quill steps` command.
struct StepsRootOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The steps root (default: $QUILL_STEPS_ROOT, else $QUILL_HOME/steps).",
            valueName: "dir"
        )
    )
    var root: String?

    var catalog: StepCatalog {
        var options = StepOptions.fromEnvironment()
        if let root { options.root = root }
        return StepCatalog(options: options)
    }
}

/// `quill steps list` (the default subcommand).
struct StepsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List step results, by namespace, newest first.",
        discussion: """
            Filters combine: --status failed --namespace TrainModel --where lr=0.001 lists results matching \
            all three. --where compares a dotted config key (dataset.samples=400) as numbers when both sides \
            are numbers, else as text. --since and --before take a date (2026-11-24), a date-time \
            (2026-11-24T10:00:00Z) or an age (7d, 12h).
            """
    )

    @OptionGroup var rootOptions: StepsRootOptions

    @Option(
        name: .shortAndLong,
        help: "Only results with this status: success, failed, incomplete, absent. Repeatable."
    )
    var status: [String] = []

    @Option(
        name: .customLong("attempt-status"),
        help:
            "Only results whose last attempt has this status: \(StepAttemptStatus.allCases.map(\.rawValue).joined(separator: ", ")). Repeatable."
    )
    var attemptStatus: [String] = []

    @Option(name: .shortAndLong, help: "Only results of this namespace (or type name). Repeatable.")
    var namespace: [String] = []

    @Option(name: .customLong("namespace-prefix"), help: "Only results whose namespace starts with this text.")
    var namespacePrefix: String?

    @Option(help: "Only results last written on this host.")
    var host: String?

    @Option(help: "Only results last written by this user.")
    var user: String?

    @Option(help: "Only results whose last attempt started at or after this time (date, date-time or age).")
    var since: String?

    @Option(help: "Only results whose last attempt started before this time (date, date-time or age).")
    var before: String?

    @Option(name: .shortAndLong, help: "A config condition KEY=VALUE, such as lr=0.001. Repeatable.")
    var `where`: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        for value in status where StepResultStatus(rawValue: value.lowercased()) == nil {
            throw ValidationError(
                "unknown status '\(value)'; use one of: \(StepResultStatus.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        for value in attemptStatus where StepAttemptStatus(rawValue: value.lowercased()) == nil {
            throw ValidationError(
                "unknown attempt status '\(value)'; use one of: \(StepAttemptStatus.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        for (name, value) in [("--since", since), ("--before", before)] {
            if let value, StepCatalog.parseTime(value) == nil {
                throw ValidationError(
                    "\(name) '\(value)' is not a time; use a date (2026-11-24), a date-time (2026-11-24T10:00:00Z) or an age (7d, 12h)"
                )
            }
        }
    }

    func run() async throws {
        var filter = StepFilter()
        filter.statuses = Set(status.compactMap { StepResultStatus(rawValue: $0.lowercased()) })
        filter.attemptStatuses = Set(attemptStatus.compactMap { StepAttemptStatus(rawValue: $0.lowercased()) })
        filter.namespaces = namespace
        filter.namespacePrefix = namespacePrefix
        filter.host = host
        filter.user = user
        filter.since = since.flatMap { StepCatalog.parseTime($0) }
        filter.before = before.flatMap { StepCatalog.parseTime($0) }
        filter.config = try `where`.map(StepConfigCondition.init(parsing:))
        let catalog = rootOptions.catalog
        let all = catalog.entries()
        let entries = all.filter(filter.matches)
        if json {
            Console.printJSON(.array(entries.map(\.json)))
            return
        }
        if entries.isEmpty {
            Console.print(
                all.isEmpty
                    ? "No step results in \(catalog.root) yet. Run a pipeline step with loadOrCreate()."
                    : "No step results match these filters (\(all.count) results in \(catalog.root))."
            )
            return
        }
        var table = Table(headers: ["NAMESPACE", "HASH", "STATUS", "STARTED", "SIZE", "SWIFT"], rightAligned: [4])
        for entry in entries {
            table.append([
                entry.namespace, String(entry.hash.prefix(7)),
                entry.status.rawValue + (entry.lockHolder == nil ? "" : " (locked)"),
                Formatting.time(entry.started), Formatting.bytes(entry.sizeBytes), entry.swift,
            ])
        }
        Console.print(table.render())
    }
}

/// `quill steps deps [NAMESPACE/HASH]`: the dependency graph as a tree, or as Graphviz DOT.
struct StepsDepsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deps",
        abstract: "Show the dependency graph of step results, as a tree or as Graphviz DOT.",
        discussion: """
            Without a result, shows every result that nothing depends on, with what it depends on below it. \
            Render the DOT form with: quill steps deps --dot | dot -Tsvg > steps.svg
            """
    )

    @OptionGroup var rootOptions: StepsRootOptions

    @Argument(help: "A result, NAMESPACE/HASH (default: the whole graph).")
    var step: String?

    @Flag(help: "Print Graphviz DOT instead of a tree.")
    var dot = false

    @Flag(help: "Print JSON: nodes and edges.")
    var json = false

    func run() async throws {
        let catalog = rootOptions.catalog
        let all = catalog.entries()
        let graph = StepGraph(all)
        let start = try step.map { [try catalog.resolve($0, in: all).reference] }
        if json {
            let nodes = graph.reachable(from: start ?? (all.map(\.reference) + graph.edges.map(\.to)))
            let included = Set(nodes)
            Console.printJSON([
                "nodes": .array(
                    nodes.map { reference in
                        [
                            "id": .string(reference.description),
                            "type": graph.entries[reference].map { .string($0.typeName) } ?? .null,
                            "status": .string(graph.entries[reference]?.status.rawValue ?? "missing"),
                        ]
                    }
                ),
                "edges": .array(
                    graph.edges.filter { included.contains($0.from) }.map { edge in
                        ["from": .string(edge.from.description), "to": .string(edge.to.description)]
                    }
                ),
            ])
        } else if dot {
            Console.print(graph.dot(from: start))
        } else if all.isEmpty {
            Console.print("No step results in \(catalog.root) yet.")
        } else {
            Console.print(graph.tree(from: start))
        }
    }
}
