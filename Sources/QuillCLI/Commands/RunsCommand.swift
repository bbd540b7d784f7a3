import ArgumentParser
import Foundation
import QuillCore

/// `quill runs`: lists runs, newest first.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List runs, newest first.",
        discussion: "Filters combine: --project vision --status completed --tag team=nlp lists runs matching all three."
    )

    @OptionGroup var homeOptions: HomeOptions

    @Option(name: .shortAndLong, help: "Only runs of this project (display name or slug).")
    var project: String?

    @Option(
        name: .shortAndLong,
        help: "Only runs with this status: running, completed, failed, crashed, killed. Repeatable."
    )
    var status: [String] = []

    @Option(name: .shortAndLong, help: "Only runs with this tag: a label, or key=value. Repeatable.")
    var tag: [String] = []

    @Option(name: .shortAndLong, help: "Show at most this many runs.")
    var limit: Int = 50

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        for value in status where RunStatus(rawValue: value.lowercased()) == nil {
            throw ValidationError(
                "unknown status '\(value)'; use one of: \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let (all, unreadable) = homeOptions.store.list()
        for problem in unreadable { Console.warn("skipped unreadable run \(problem)") }
        let statuses = Set(status.compactMap { RunStatus(rawValue: $0.lowercased()) })
        let slug = project.map(Project.slug(for:))
        var runs = all.filter { run in
            if let slug, run.meta.projectSlug != slug { return false }
            if !statuses.isEmpty, !statuses.contains(run.meta.status) { return false }
            for filter in tag {
                let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
                guard let value = run.meta.tagValues[parts[0]] else { return false }
                if parts.count == 2, value != parts[1] { return false }
            }
            return true
        }
        let total = runs.count
        runs = Array(runs.prefix(limit))
        if json {
            Console.printJSON(.array(runs.map(RunJSON.summary)))
            return
        }
        if runs.isEmpty {
            let home = homeOptions.quillHome.runsPath
            Console.print(
                all.isEmpty
                    ? "No runs in \(home) yet. Try `quill demo`."
                    : "No runs match these filters (\(all.count) runs in \(home))."
            )
            return
        }
        var table = Table(
            headers: ["NAME", "ID", "PROJECT", "STATUS", "STARTED", "DURATION", "SUMMARY"],
            rightAligned: [5]
        )
        for run in runs {
            let meta = run.meta
            let duration =
                meta.durationSeconds ?? (meta.status == .running ? Date().timeIntervalSince(meta.startedAt) : nil)
            let summary = meta.summary.keys.sorted().prefix(3).map { "\($0)=\(Formatting.value(meta.summary[$0]))" }
                .joined(separator: " ")
            table.append([
                meta.name, meta.id.rawValue, meta.project, meta.status.rawValue, Formatting.time(meta.startedAt),
                Formatting.duration(duration), summary,
            ])
        }
        Console.print(table.render())
        if total > runs.count {
            Console.print("(\(total - runs.count) more; raise --limit to see them)")
        }
    }
}

/// The JSON shapes the CLI prints for runs.
enum RunJSON {
    /// A run's metadata with its folder, as `quill runs --json` prints each run.
    static func summary(_ run: LocalRun) -> JSONValue {
        var members = run.meta.json.objectValue ?? [:]
        members["dir"] = .string(run.directory.path)
        return .object(members)
    }
}
