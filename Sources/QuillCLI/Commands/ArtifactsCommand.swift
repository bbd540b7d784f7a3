import ArgumentParser
import Foundation
import QuillClient
import QuillCore

/// `quill artifacts RUN`: lists a run's artifacts, from the server or the local run directory.
struct ArtifactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "artifacts",
        abstract: "List a run's artifacts, or download one with `quill artifacts get RUN PATH`.",
        discussion: """
            With --server (or $QUILL_TRACKING_URI) the list comes from the server and shows each file's upload \
            status and SHA-256, and for remote artifacts (run.logArtifact(remote:device:)) the device and path \
            of the file, with the reason when its device could not send it; otherwise from the run's \
            artifacts/ folder.
            """,
        subcommands: [
            ArtifactsListCommand.self, ArtifactsGetCommand.self, ArtifactsRemoteCommand.self, ArtifactsGCCommand.self,
        ],
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
        let reader = serverOptions.reader(homeOptions)
        let found = try reader.run(run, project: project, metadataOnly: true)
        let artifacts = try reader.artifacts(of: found)
        if json {
            Console.printJSON(.array(artifacts.map(\.json)))
            return
        }
        switch reader.source {
        case .local:
            var table = Table(headers: ["PATH", "SIZE", "MODIFIED"], rightAligned: [1])
            for file in artifacts {
                table.append([file.path, file.size.map(Formatting.bytes) ?? "-", Formatting.time(file.modified)])
            }
            print(table, empty: "run '\(found.meta.name)' has no artifacts; log one with run.logArtifact(path)")
        case .server(let url):
            // Remote artifacts (files on a device) get a column naming where the file is; a failed request's
            // reason follows the table, whole.
            let remote = artifacts.contains { $0.json["remote"]?.objectValue != nil }
            var headers = ["PATH", "SIZE", "STATUS", "MODIFIED", "SHA256"]
            if remote { headers.append("ON DEVICE") }
            var table = Table(headers: headers, rightAligned: [1])
            var reasons: [String] = []
            for artifact in artifacts {
                var row = [
                    artifact.path, artifact.size.map(Formatting.bytes) ?? "-", artifact.status ?? "-",
                    Formatting.time(artifact.modified), artifact.sha256.map { String($0.prefix(12)) } ?? "-",
                ]
                if remote {
                    let request = artifact.json["remote"]
                    let device = request?["device"]?.stringValue
                    let source = request?["source_path"]?.stringValue ?? ""
                    row.append(device.map { "\($0):\(source)" } ?? "-")
                    if request?["status"] == "failed", let reason = request?["reason"]?.stringValue {
                        reasons.append("\(artifact.path): \(reason)")
                    }
                }
                table.append(row)
            }
            print(table, empty: "run '\(found.meta.name)' has no artifacts on \(url)")
            if !reasons.isEmpty {
                Console.print("\nremote artifacts that failed:\n" + reasons.joined(separator: "\n"))
            }
        }
    }

    private func print(_ table: Table, empty: String) {
        if table.rows.isEmpty {
            Console.printError(empty)
        } else {
            Console.print(table.render())
        }
    }
}
