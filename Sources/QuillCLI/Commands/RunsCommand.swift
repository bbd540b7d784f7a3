import ArgumentParser
import Foundation
import Quill
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
        help: "Only runs with this status: running, completed, failed, crashed, killed. Repeatable."
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
        if cursor != nil, serverOptions.remote == nil {
            throw QuillError(.invalidArgument, "--cursor pages through a server's runs; pass --server URL too")
        }
        if let remote = serverOptions.remote {
            try listRemote(remote)
            return
        }
        let (all, unreadable) = homeOptions.store.list()
        for problem in unreadable { Console.warn("skipped unreadable run \(problem)") }
        let statuses = Set(status.compactMap { RunStatus(rawValue: $0.lowercased()) })
        let slug = project.map(Project.slug(for:))
        let tags = try tag.map(TagArgument.parse)
        var runs = all.filter { run in
            if let slug, run.meta.projectSlug != slug { return false }
            if !statuses.isEmpty, !statuses.contains(run.meta.status) { return false }
            return tags.allSatisfy { $0.matches(run.meta.tagValues) }
        }
        runs = try applyQuery(to: runs)
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
        Console.print(Self.table(runs.map(\.meta)))
        if total > runs.count {
            Console.print("(\(total - runs.count) more; raise --limit to see them)")
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
            table.append([
                meta.name, meta.id.rawValue, meta.project, meta.status.rawValue, Formatting.time(meta.startedAt),
                Formatting.duration(duration), summary,
            ])
        }
        return table.render()
    }

    /// Lists runs of a server: --status and --tag become part of the query the server evaluates.
    func listRemote(_ remote: RemoteRuns) throws {
        var clauses: [String] = []
        if let query = `where` { clauses.append("(\(query))") }
        let statuses = status.map { $0.lowercased() }
        if !statuses.isEmpty { clauses.append("status in (\(statuses.joined(separator: ", ")))") }
        for filter in try tag.map(TagArgument.parse) {
            let key = "tags.`" + filter.key.replacingOccurrences(of: "`", with: "``") + "`"
            let value = filter.value ?? "*"
            clauses.append("\(key) ~ \"\(value.replacingOccurrences(of: "\"", with: "\\\""))\"")
        }
        let page = try remote.page(
            project: project,
            query: clauses.isEmpty ? nil : clauses.joined(separator: " and "),
            sort: sort,
            limit: limit,
            cursor: cursor
        )
        let runs = page.runs
        if json {
            Console.printJSON([
                "runs": .array(runs.map(\.json)), "next_cursor": page.nextCursor.map(JSONValue.string) ?? .null,
            ])
        } else if runs.isEmpty {
            Console.print("No runs on \(remote.client.baseURL) match.")
            if remote.client.apiKey == nil,
                (try? remote.client.send("GET", "/api/v1/whoami"))?.body?["mode"]?.stringValue == "anonymous"
            {
                Console.warn(
                    "no API key was sent, so only public projects are visible; set QUILL_API_KEY or run `quill login --server \(remote.client.baseURL)`"
                )
            }
        } else {
            Console.print(Self.table(runs.map(\.meta)))
            if let next = page.nextCursor {
                Console.print(
                    "(more runs on the server; raise --limit, or pass --cursor \(next) for the next \(limit))"
                )
            }
        }
    }

    /// Filters with --where and orders with --sort, loading configs and metrics only when they are used.
    func applyQuery(to runs: [LocalRun]) throws -> [LocalRun] {
        let query = try `where`.map { try RunQuery(parsing: $0) }
        let order = try sort.map { try RunSort(parsing: $0) }
        guard query != nil || order != nil else { return runs }
        let fields = (query?.fields ?? []) + (order.map { [$0.field] } ?? [])
        let needsMetrics = fields.contains { if case .metric = $0 { true } else { false } }
        let needsConfig = fields.contains { if case .param = $0 { true } else { false } }
        var candidates: [(run: LocalRun, values: QueryableRun)] = []
        for run in runs {
            let config = needsConfig ? (try? run.directory.readConfig()) ?? .object([:]) : .object([:])
            let statistics =
                needsMetrics
                ? MetricStatistics.compute((try? run.directory.readMetrics(meta: run.meta).rows) ?? []) : [:]
            let values = QueryableRun(meta: run.meta, config: config, metrics: statistics)
            if query?.matches(values) ?? true { candidates.append((run, values)) }
        }
        guard let order else { return candidates.map(\.run) }
        // Stable: runs that tie keep their newest-first order.
        return candidates.enumerated().sorted { lhs, rhs in
            if order.precedes(lhs.element.values, rhs.element.values) { return true }
            if order.precedes(rhs.element.values, lhs.element.values) { return false }
            return lhs.offset < rhs.offset
        }.map(\.element.run)
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
