import ArgumentParser
import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// `quill artifacts remote RUN PATH --device NAME`: asks a device for a file as an artifact of a run, as
/// `run.logArtifact(remote:device:)` does; with no PATH, lists the run's requests and their status.
struct ArtifactsRemoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Ask a device (a quill worker) for a file as an artifact of a run, or list the run's requests.",
        discussion: """
            The device's worker sends the file later as the artifact remote_<device>__<name>, if it shares the \
            folder holding it (quill worker --share DIR); --no-transfer only records where the file is. Without \
            PATH, lists the run's requests: pending, sending, done, failed (with the reason) or recorded. Needs \
            a server (--server or $QUILL_TRACKING_URI).
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: "The run: id, unique id prefix, or name.")
    var run: String

    @Argument(help: "The file's absolute path on the device.")
    var path: String?

    @Option(help: "The device, as `quill devices` lists it.")
    var device: String?

    @Option(help: "The artifact's name (default: the file's name).")
    var name: String?

    @Flag(help: "Only record where the file is; do not send it.")
    var noTransfer = false

    @Option(name: .shortAndLong, help: "The project, when several projects have a run of this name.")
    var project: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var serverOptions: ServerOptions

    func validate() throws {
        if path != nil, device == nil { throw ValidationError("name the device the file is on with --device NAME") }
        if let path, !path.hasPrefix("/") {
            throw ValidationError("the path must be absolute on the device, not '\(path)'")
        }
    }

    func run() async throws {
        let reader = serverOptions.reader(homeOptions)
        guard case .server = reader.source else {
            throw QuillError(
                .invalidArgument,
                "remote artifacts live on a server: pass --server http://HOST:PORT or set QUILL_TRACKING_URI"
            )
        }
        let server = try ServerClient(server: serverOptions.server)
        let id = try reader.run(run, project: project, metadataOnly: true).meta.id.rawValue
        guard let path, let device else {
            let list = try server.call("GET", APIPath.runRemoteArtifacts(id))
            if json {
                Console.printJSON(list)
                return
            }
            var table = Table(headers: ["ID", "DEVICE", "PATH", "ARTIFACT", "STATUS"], rightAligned: [0])
            for request in list["requests"]?.arrayValue ?? [] {
                var status = request["status"]?.stringValue ?? "-"
                if let reason = request["reason"]?.stringValue { status += ": \(reason)" }
                table.append([
                    request["id"]?.intValue.map(String.init) ?? "-", request["device"]?.stringValue ?? "-",
                    request["source_path"]?.stringValue ?? "-", request["artifact_path"]?.stringValue ?? "-", status,
                ])
            }
            if table.rows.isEmpty {
                Console.printError("run '\(run)' asked no device for a file")
            } else {
                Console.print(table.render())
            }
            return
        }
        let body = APIRemoteArtifactCreate(device: device, path: path, name: name, transfer: noTransfer ? false : nil)
        let created = try server.call("POST", APIPath.runRemoteArtifacts(id), json: try APIEncoder().encode(body))
        if json {
            Console.printJSON(created)
            return
        }
        let artifact = created["artifact_path"]?.stringValue ?? "?"
        let number = created["id"]?.intValue.map(String.init) ?? "?"
        Console.print(
            noTransfer
                ? "recorded \(device):\(path) as \(artifact) (request \(number)), without its bytes"
                : "asked \(device) for \(path) as \(artifact) (request \(number)); `quill artifacts remote \(run)` shows when it arrives"
        )
    }
}
