import ArgumentParser
import Foundation
import QuillClient
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
        let reader = serverOptions.reader(homeOptions)
        let found = try reader.run(run, project: project)
        for warning in found.warnings { Console.warn(warning) }
        if json {
            Console.printJSON(found.json)
            return
        }
        render(found, artifacts: try reader.artifacts(of: found))
    }

    /// Prints a run as sections of aligned text.
    private func render(_ run: RunDetails, artifacts: [ArtifactEntry]) {
        let meta = run.meta
        let location = run.location
        let statistics = run.statistics
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

        section(
            "Config",
            run.config.flattened().sorted { $0.key < $1.key }.map { ($0.key, Formatting.value($0.value)) }
        )
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
            for artifact in artifacts { table.append([artifact.path, artifact.size.map(Formatting.bytes) ?? "-"]) }
            Console.print("\nArtifacts\n" + indent(table.render()))
        }
        if !meta.links.isEmpty {
            // Each link with the time it was added (its own, not the run's start).
            section("Links", meta.links.map { ($0.label, "\($0.url)  (added \(Formatting.time($0.timestamp)))") })
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
