import ArgumentParser
import Foundation
import QuillCore
import QuillSteps

/// `quill steps show NAMESPACE/HASH`: everything recorded about one result.
struct StepsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a step result: metadata, config, attempts, dependencies, files and the end of its log."
    )

    @OptionGroup var rootOptions: StepsRootOptions

    @Argument(help: "The result, NAMESPACE/HASH (a type name and a unique hash prefix will do).")
    var step: String

    @Option(help: "How many lines of .quill/log.txt to show.")
    var logLines = 10

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let catalog = rootOptions.catalog
        let all = catalog.entries()
        let entry = try catalog.resolve(step, in: all)
        let graph = StepGraph(all)
        let files = StepCatalog.files(in: entry.directory)
        let log = StepCatalogEntry.lastLines(of: StepDirectory(entry.directory).log, count: max(0, logLines))
        if json {
            Console.printJSON(entry.detailJSON(graph: graph, logLines: max(0, logLines)))
            return
        }
        let metadata = entry.info.metadata
        var out: [String] = ["Step \(entry.namespace)/\(entry.hash)", ""]
        var summary = KeyValueList()
        summary.append("swift", entry.swift)
        summary.append("status", entry.status.rawValue + (entry.lockHolder.map { " (being computed by \($0))" } ?? ""))
        summary.append("dir", entry.directory)
        summary.append("size", Formatting.bytes(entry.sizeBytes))
        summary.append("created", Formatting.time(entry.createdAt))
        summary.append("host", entry.host)
        summary.append("user", entry.user)
        summary.append(
            "command",
            (metadata["command"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
        )
        if let git = metadata["git"], git != .null {
            let dirty = git["dirty"] == .bool(true) ? " (dirty)" : ""
            summary.append(
                "git",
                "\(git["commit"]?.stringValue?.prefix(12) ?? "-") on \(git["branch"]?.stringValue ?? "-")\(dirty)"
            )
        }
        out.append(summary.render())

        out += ["", "Config"]
        let flat = entry.config.flattened()
        if flat.isEmpty {
            out.append("  (none)")
        } else {
            var config = KeyValueList()
            for key in flat.keys.sorted() { config.append(key, Formatting.value(flat[key])) }
            out.append(config.render())
        }

        out += ["", "Attempts"]
        if entry.info.state.attempts.isEmpty {
            out.append("  (none)")
        } else {
            var table = Table(headers: ["STATUS", "OWNER", "BACKEND", "STARTED", "ENDED", "ERROR"])
            for attempt in entry.info.state.attempts {
                table.append([
                    attempt.status.rawValue, attempt.owner,
                    attempt.slurmJob.map { "\(attempt.backend) job \($0)" } ?? attempt.backend,
                    Formatting.time(attempt.startedAt),
                    Formatting.time(attempt.endedAt), attempt.error ?? "",
                ])
            }
            out.append(Self.indented(table.render()))
        }

        out += ["", "Dependencies"]
        let dependencies = graph.dependencies(of: entry.reference)
        out.append(
            dependencies.isEmpty ? "  (none)" : dependencies.map { "  " + graph.label($0) }.joined(separator: "\n")
        )
        let dependents = graph.dependents(of: entry.reference)
        if !dependents.isEmpty {
            out += ["", "Used by"]
            out.append(dependents.map { "  " + graph.label($0) }.joined(separator: "\n"))
        }

        out += ["", "Files"]
        var table = Table(headers: ["PATH", "SIZE"], rightAligned: [1])
        table.maximumCellWidth = 80
        for file in files { table.append([file.path, Formatting.bytes(file.bytes)]) }
        out.append(Self.indented(table.render()))

        if !log.isEmpty {
            out += ["", "Log (last \(log.count) lines of .quill/log.txt)"]
            out.append(log.map { "  " + $0 }.joined(separator: "\n"))
        }
        Console.print(out.joined(separator: "\n"))
    }

    static func indented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }
}

/// `quill steps rm NAMESPACE/HASH...`: removes results.
struct StepsRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove step results; the next loadOrCreate computes them again.",
        discussion: """
            A result whose compute lock a live process holds is refused unless --force is given. All names are \
            resolved before anything is removed, so a typo removes nothing.
            """
    )

    @OptionGroup var rootOptions: StepsRootOptions

    @Argument(help: "The results, NAMESPACE/HASH.")
    var steps: [String]

    @Flag(help: "Only print what would be removed.")
    var dryRun = false

    @Flag(help: "Remove results even while a process computes them.")
    var force = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        guard !steps.isEmpty else { throw ValidationError("name at least one result, NAMESPACE/HASH") }
    }

    func run() async throws {
        let catalog = rootOptions.catalog
        let all = catalog.entries()
        var entries: [StepCatalogEntry] = []
        for text in steps {
            let entry = try catalog.resolve(text, in: all)
            if !entries.contains(where: { $0.reference == entry.reference }) { entries.append(entry) }
        }
        if !force, let locked = entries.first(where: { $0.lockHolder != nil }) {
            throw QuillError(
                .conflict,
                "\(locked.namespace)/\(locked.hash.prefix(7)) is being computed by \(locked.lockHolder ?? "another process"); wait for it to finish, or pass --force to remove it anyway"
            )
        }
        var removals: [StepRemoval] = []
        for entry in entries { removals.append(try catalog.remove(entry, force: force, dryRun: dryRun)) }
        let bytes = removals.reduce(0) { $0 + $1.bytes }
        if json {
            Console.printJSON([
                "dry_run": .bool(dryRun), "removed": .array(removals.map(\.json)), "bytes": .int(Int(bytes)),
            ])
            return
        }
        StepsGCCommand.printRemovals(removals, skipped: [], dryRun: dryRun)
    }
}

/// `quill steps gc`: removes failed, incomplete or old results.
struct StepsGCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove failed, incomplete or old step results.",
        discussion: """
            A result is removed when it matches any of the criteria given; at least one is required. Results a \
            live process is computing are skipped. --older-than counts from the result's last activity (the end \
            of its last attempt) and takes an age: 30d, 12h, 2w.
            """
    )

    @OptionGroup var rootOptions: StepsRootOptions

    @Flag(help: "Remove results whose last computation failed.")
    var failed = false

    @Flag(help: "Remove results started and never finished.")
    var incomplete = false

    @Option(help: ArgumentHelp("Remove results with no activity for this long (30d, 12h, 2w).", valueName: "age"))
    var olderThan: String?

    @Flag(help: "Only print what would be removed.")
    var dryRun = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        var criteria = StepGCCriteria(failed: failed, incomplete: incomplete)
        if let olderThan {
            guard let age = StepCatalog.parseAge(olderThan) else {
                throw QuillError(
                    .invalidArgument,
                    "--older-than '\(olderThan)' is not an age; write a number and a unit: 30d, 12h, 90m, 2w"
                )
            }
            criteria.olderThan = age
        }
        let report = try rootOptions.catalog.collectGarbage(criteria, dryRun: dryRun)
        if json {
            Console.printJSON([
                "dry_run": .bool(dryRun), "removed": .array(report.removals.map(\.json)),
                "skipped": .array(
                    report.skipped.map { skipped in
                        [
                            "namespace": .string(skipped.entry.namespace), "hash": .string(skipped.entry.hash),
                            "reason": .string(skipped.reason),
                        ]
                    }
                ),
                "count": .int(report.removals.count), "bytes": .int(Int(report.bytes)),
            ])
            return
        }
        Self.printRemovals(report.removals, skipped: report.skipped.map { ($0.entry, $0.reason) }, dryRun: dryRun)
    }

    static func printRemovals(
        _ removals: [StepRemoval],
        skipped: [(StepCatalogEntry, String)],
        dryRun: Bool
    ) {
        var lines: [String] = []
        let verb = dryRun ? "would remove" : "removed"
        for removal in removals {
            lines.append(
                "\(verb) \(removal.reference.namespace)/\(removal.reference.hash.prefix(7)) (\(removal.status.rawValue), \(Formatting.bytes(removal.bytes)))"
            )
        }
        for (entry, reason) in skipped {
            lines.append("skipped \(entry.namespace)/\(entry.hash.prefix(7)) (\(reason))")
        }
        let bytes = removals.reduce(0) { $0 + $1.bytes }
        let noun = removals.count == 1 ? "result" : "results"
        lines.append(
            dryRun
                ? "Dry run: \(removals.count) \(noun), \(Formatting.bytes(bytes)) would be freed; run again without --dry-run to remove them."
                : "Removed \(removals.count) \(noun), freed \(Formatting.bytes(bytes))."
        )
        Console.print(lines.joined(separator: "\n"))
    }
}
