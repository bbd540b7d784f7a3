import ArgumentParser
import Foundation
import Quill
import QuillCore

/// `quill artifacts RUN`: lists a run's artifacts, from the server or the local run directory.
struct ArtifactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "artifacts",
        abstract: "List a run's artifacts, or download one with `quill artifacts get RUN PATH`.",
        discussion: """
            With --server (or $QUILL_TRACKING_URI) the list comes from the server and shows each file's upload \
            status and SHA-256; otherwise from the run's artifacts/ folder.
            """,
        subcommands: [ArtifactsListCommand.self, ArtifactsGetCommand.self, ArtifactsGCCommand.self],
        defaultSubcommand: ArtifactsListCommand.self
    )
}

/// `quill artifacts list RUN` (the default subcommand).
struct ArtifactsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a run's artifacts.")

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: "The run: id, unique id prefix, or name.")
    var run: String

    @Option(name: .shortAndLong, help: "The project, when several projects have a run of this name.")
    var project: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        if let remote = serverOptions.remote {
            let found = try remote.find(run)
            let artifacts = try remote.artifacts(found.meta.id)
            if json {
                Console.printJSON(.array(artifacts))
                return
            }
            var table = Table(headers: ["PATH", "SIZE", "STATUS", "MODIFIED", "SHA256"], rightAligned: [1])
            for artifact in artifacts {
                table.append([
                    artifact["path"]?.stringValue ?? "-",
                    artifact["size"]?.intValue.map { Formatting.bytes(Int64($0)) } ?? "-",
                    artifact["status"]?.stringValue ?? "-",
                    Formatting.time(artifact["modified_at"]?.stringValue.flatMap(Timestamp.parse)),
                    artifact["sha256"]?.stringValue.map { String($0.prefix(12)) } ?? "-",
                ])
            }
            print(table, empty: "run '\(found.meta.name)' has no artifacts on \(remote.client.baseURL)")
            return
        }
        let found = try homeOptions.store.resolve(run, project: project)
        let root = found.directory.artifactsPath
        let files = found.directory.listArtifacts().map { file -> (path: String, size: Int64, modified: Date?) in
            let attributes = try? FileManager.default.attributesOfItem(atPath: root + "/" + file.path)
            return (file.path, file.size, attributes?[.modificationDate] as? Date)
        }
        if json {
            Console.printJSON(
                .array(
                    files.map {
                        [
                            "path": .string($0.path), "size": .int(Int($0.size)),
                            "modified_at": $0.modified.map { .string(Timestamp.string($0)) } ?? .null,
                        ]
                    }
                )
            )
            return
        }
        var table = Table(headers: ["PATH", "SIZE", "MODIFIED"], rightAligned: [1])
        for file in files { table.append([file.path, Formatting.bytes(file.size), Formatting.time(file.modified)]) }
        print(table, empty: "run '\(found.meta.name)' has no artifacts; log one with run.logArtifact(path)")
    }

    private func print(_ table: Table, empty: String) {
        if table.rows.isEmpty {
            Console.printError(empty)
        } else {
            Console.print(table.render())
        }
    }
}

extension RemoteRuns {
    /// A run's artifact records, as the server returns them.
    func artifacts(_ id: RunID) throws -> [JSONValue] {
        let response = try client.send("GET", "/api/v1/runs/\(id)/artifacts")
        guard response.status == 200, let body = response.body else {
            let message = response.body?["error"]?["message"]?.stringValue ?? "HTTP \(response.status)"
            throw QuillError(response.status == 404 ? .notFound : .io, "\(client.baseURL): \(message)")
        }
        return body["artifacts"]?.arrayValue ?? []
    }
}
