import ArgumentParser
import Foundation
import Quill
import QuillCore

/// `quill show RUN`: everything about one run.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a run: metadata, config, summary, metrics, artifacts and git state."
    )

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: "The run: id, unique id prefix, or name.")
    var run: String

    @Option(name: .shortAndLong, help: "The project, when several projects have a run of this name.")
    var project: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        if let remote = serverOptions.remote {
            let found = try remote.find(run)
            if json {
                Console.printJSON(found.json)
            } else {
                render(
                    meta: found.meta,
                    config: found.config,
                    statistics: found.statistics,
                    artifacts: [],
                    location: remote.client.baseURL + "/runs/\(found.meta.id)"
                )
            }
            return
        }
        let found = try homeOptions.store.resolve(run, project: project)
        let meta = found.meta
        let directory = found.directory
        let config = try directory.readConfig()
        let (rows, diagnostics) = try directory.readMetrics(meta: meta)
        if let warning = diagnostics.warning(file: directory.metricsPath) { Console.warn(warning) }
        let statistics = MetricStatistics.compute(rows)
        let artifacts = directory.listArtifacts()

        if json {
            var members = RunJSON.summary(found).objectValue ?? [:]
            members["config"] = config
            members["metrics"] = .object(
                statistics.mapValues { stats in
                    [
                        "count": .int(stats.count), "last": .double(stats.last),
                        "last_step": stats.lastStep.map(JSONValue.int) ?? .null,
                        "min": .double(stats.min), "max": .double(stats.max),
                    ]
                }
            )
            members["artifacts"] = .array(artifacts.map { ["path": .string($0.path), "size": .int(Int($0.size))] })
            members["warnings"] = .array(
                [diagnostics.warning(file: RunDirectory.metricsFileName)].compactMap { $0.map(JSONValue.string) }
            )
            Console.printJSON(.object(members))
            return
        }
        render(meta: meta, config: config, statistics: statistics, artifacts: artifacts, location: directory.path)
    }

    /// Prints a run as sections of aligned text.
    private func render(
        meta: RunMeta,
        config: JSONValue,
        statistics: [String: MetricStatistics],
        artifacts: [(path: String, size: Int64)],
        location: String
    ) {
        var header = KeyValueList()
        header.append("id", meta.id.rawValue)
        header.append("project", meta.project)
        header.append("kind", meta.kind.label)
        header.append("status", meta.status.rawValue + (meta.error.map { " (\($0))" } ?? ""))
        if let parent = meta.parent { header.append("parent", parent.rawValue) }
        header.append("started", Formatting.time(meta.startedAt))
        header.append("finished", Formatting.time(meta.finishedAt))
        header.append("duration", Formatting.duration(meta.durationSeconds))
        if let code = meta.exitCode { header.append("exit code", String(code)) }
        if let signal = meta.signal { header.append("signal", String(signal)) }
        if !meta.tags.isEmpty {
            // As the command line writes them (`quill run --tag`, `quill runs --tag`): a label or key=value.
            let shown = meta.tags.map { tag in
                let key = String(tag.split(separator: ":", maxSplits: 1).first ?? "")
                return meta.tagValues[key].map { $0.isEmpty ? key : "\(key)=\($0)" } ?? tag
            }
            header.append("tags", shown.joined(separator: ", "))
        }
        if let description = meta.description { header.append("description", description) }
        header.append(location.hasPrefix("http") ? "url" : "dir", location)
        Console.print("Run \(meta.name)\n" + header.render())

        section("Config", config.flattened().sorted { $0.key < $1.key }.map { ($0.key, Formatting.value($0.value)) })
        section("Params", meta.params.sorted { $0.key < $1.key }.map { ($0.key, Formatting.value($0.value)) })
        section("Summary", meta.summary.sorted { $0.key < $1.key }.map { ($0.key, Formatting.value($0.value)) })

        if !statistics.isEmpty {
            var table = Table(
                headers: ["METRIC", "LAST", "STEP", "MIN", "MAX", "COUNT"],
                rightAligned: [1, 2, 3, 4, 5]
            )
            for key in statistics.keys.sorted() {
                guard let stats = statistics[key] else { continue }
                table.append([
                    key, Formatting.number(stats.last), stats.lastStep.map(String.init) ?? "-",
                    Formatting.number(stats.min),
                    Formatting.number(stats.max), String(stats.count),
                ])
            }
            Console.print("\nMetrics\n" + indent(table.render()))
        }
        if !artifacts.isEmpty {
            var table = Table(headers: ["ARTIFACT", "SIZE"], rightAligned: [1])
            for artifact in artifacts { table.append([artifact.path, Formatting.bytes(artifact.size)]) }
            Console.print("\nArtifacts\n" + indent(table.render()))
        }
        if !meta.links.isEmpty {
            section("Links", meta.links.map { ($0.label, $0.url) })
        }
        if let git = meta.git {
            var items = [("commit", git.commit), ("branch", git.branch), ("dirty", git.dirty ? "yes" : "no")]
            if let remote = git.remote { items.append(("remote", remote)) }
            if let diff = git.diffFile, !location.hasPrefix("http") {
                items.append(("diff", location + "/" + diff + (git.diffTruncated ? " (truncated)" : "")))
            }
            section("Git", items)
        }
        if let host = meta.host {
            section(
                "Host",
                [
                    ("hostname", host.hostname), ("user", host.user), ("pid", String(host.pid)), ("os", host.os),
                    ("swift", host.swiftVersion), ("command", host.commandLine.joined(separator: " ")),
                ]
            )
        }
    }

    private func section(_ title: String, _ items: [(String, String)]) {
        guard !items.isEmpty else { return }
        var list = KeyValueList()
        for (key, value) in items { list.append(key, value) }
        Console.print("\n\(title)\n" + list.render())
    }

    private func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }
}
