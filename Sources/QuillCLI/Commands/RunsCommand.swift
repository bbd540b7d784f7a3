import ArgumentParser
import Foundation
import QuillClient
import QuillCore

/// `quill runs`: lists runs, newest first.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List runs, newest first.",
        discussion: """
            Filters combine: --project vision --status completed --tag team=nlp lists runs matching all three. \
            --where takes Quill's query language, e.g. \
            --where 'params.lr in (0.01, 0.001) and metrics.loss.min < 0.5 or tags.team = "vision"'; \
            --sort takes a field, optionally followed by desc: --sort 'metrics.loss.min' or --sort 'created desc'.
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Option(name: .shortAndLong, help: "Only runs of this project (display name or slug).")
    var project: String?

    @Option(
        name: .shortAndLong,
        help: "Only runs with this status: queued, running, completed, failed, crashed, killed. Repeatable."
    )
    var status: [String] = []

    @Option(name: .shortAndLong, help: "Only runs with this tag: a label, or key=value. Repeatable.")
    var tag: [String] = []

    @Option(name: .shortAndLong, parsing: .unconditional, help: "Show at most this many runs.")
    var limit: Int = 50

    @Option(
        help: ArgumentHelp(
            "With --server: continue a listing where the previous page ended (its next_cursor).",
            valueName: "cursor"
        )
    )
    var cursor: String?

    @Option(
        name: .shortAndLong,
        help:
            "A query: params.KEY, metrics.KEY[.min|.max|.latest|.count], tags.KEY, summary.KEY, status, name, … (see --help)."
    )
    var `where`: String?

    @Option(name: .long, help: "Sort by a field, e.g. 'metrics.loss.min' or 'created desc' (default: newest first).")
    var sort: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var serverOptions: ServerOptions

    func validate() throws {
        for value in status where RunStatus(rawValue: value.lowercased()) == nil {
            throw ValidationError(
                "unknown status '\(value)'; use one of: \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard limit > 0 else { throw QuillError(.invalidArgument, "--limit must be a positive number, not \(limit)") }
        if let query = `where` { _ = try RunQuery(parsing: query) }
        if let sort { _ = try RunSort(parsing: sort) }
    }

    func run() async throws {
        let reader = serverOptions.reader(homeOptions)
        if cursor != nil, case .local = reader.source {
            throw QuillError(.invalidArgument, "--cursor pages through a server's runs; pass --server URL too")
        }
        var query = RunListQuery(limit: limit)
        query.project = project
        query.statuses = status.compactMap { RunStatus(rawValue: $0.lowercased()) }
        query.tags = try tag.map(TagArgument.parse).map { TagFilter(key: $0.key, value: $0.value) }
        query.query = `where`
        query.sort = sort
        query.cursor = cursor
        let listing = try reader.runs(query)
        for warning in listing.warnings { Console.warn(warning) }
        let runs = listing.runs
        if json {
            switch reader.source {
            case .local: Console.printJSON(.array(runs.map(\.json)))
            case .server:
                Console.printJSON([
                    "runs": .array(runs.map(\.json)), "next_cursor": listing.nextCursor.map(JSONValue.string) ?? .null,
                ])
            }
            return
        }
        if runs.isEmpty {
            switch reader.source {
            case .local(let folder):
                Console.print(
                    listing.scanned == 0
                        ? "No runs in \(folder) yet. Try `quill demo`."
                        : "No runs match these filters (\(listing.scanned ?? 0) runs in \(folder))."
                )
            case .server(let url): Console.print("No runs on \(url) match.")
            }
            return
        }
        Console.print(Self.table(runs.map(\.meta)))
        if listing.more > 0 {
            Console.print("(\(listing.more) more; raise --limit to see them)")
        }
        if let next = listing.nextCursor {
            Console.print("(more runs on the server; raise --limit, or pass --cursor \(next) for the next \(limit))")
        }
    }
}

extension RunsCommand {
    /// The runs table: name, id, project, status, start, duration and the first summary values.
    static func table(_ metas: [RunMeta]) -> String {
        var table = Table(
            headers: ["NAME", "ID", "PROJECT", "STATUS", "STARTED", "DURATION", "SUMMARY"],
            rightAligned: [5]
        )
        for meta in metas {
            let duration =
                meta.durationSeconds ?? (meta.status == .running ? Date().timeIntervalSince(meta.startedAt) : nil)
            let summary = meta.summary.keys.sorted().prefix(3).map { "\($0)=\(Formatting.value(meta.summary[$0]))" }
                .joined(separator: " ")
            // A queued run (a job waiting for a worker) has not started: its start is the submission time.
            let started = meta.status == .queued ? "-" : Formatting.time(meta.startedAt)
            table.append([
                meta.name, meta.id.rawValue, meta.project, meta.status.rawValue, started,
                Formatting.duration(duration), summary,
            ])
        }
        return table.render()
    }
}
