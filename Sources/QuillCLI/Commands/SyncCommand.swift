import ArgumentParser
import Foundation
import Quill
import QuillClient
import QuillCore

/// `quill sync`: uploads runs logged offline (or partly) to a server.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Upload local runs to a server; syncing twice never duplicates a point.",
        discussion: "The server is --server or $QUILL_TRACKING_URI; the API key is $QUILL_API_KEY."
    )

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: "The run to upload: id, unique id prefix, or name.")
    var run: String?

    @Flag(help: "Upload every run.")
    var all = false

    @Option(
        help: ArgumentHelp("The server, e.g. http://127.0.0.1:8080 (default: $QUILL_TRACKING_URI).", valueName: "url")
    )
    var server: String?

    @Flag(help: "Print a JSON report.")
    var json = false

    func validate() throws {
        guard (run != nil) != all else { throw ValidationError("name one run, or pass --all") }
        try ServerURL.check(server: server)
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let serverURL = server ?? environment["QUILL_TRACKING_URI"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw QuillError(.invalidArgument, "no server: pass --server http://HOST:PORT or set QUILL_TRACKING_URI")
        }
        let store = homeOptions.store
        let runs = all ? store.list().runs : [try store.resolve(run ?? "")]
        let probe = BlockingHTTPClient(
            baseURL: serverURL,
            apiKey: Credentials.apiKey(server: serverURL, environment: environment),
            timeout: 10
        )
        try ServerCheck.requireAccess(probe)
        var reports: [JSONValue] = []
        var failures = 0
        for (offset, local) in runs.enumerated() {
            let uploader = RunUploader(
                directory: local.directory,
                serverURL: serverURL,
                apiKey: Credentials.apiKey(server: serverURL, environment: environment)
            )
            do {
                let report = try uploader.syncOnce()
                reports.append([
                    "id": .string(local.meta.id.rawValue), "name": .string(local.meta.name),
                    "rows_sent": .int(report.rowsSent),
                    "points_written": .int(report.pointsWritten), "complete": .bool(report.complete),
                    "artifacts_uploaded": .int(report.artifactsUploaded),
                    "artifact_bytes_sent": .int(Int(report.artifactBytesSent)),
                    "artifacts_refused": .array(report.artifactsRefused.map(JSONValue.string)),
                ])
                if !json {
                    Console.printError(
                        "[\(offset + 1)/\(runs.count)] \(local.meta.name): sent \(report.rowsSent) rows, \(report.pointsWritten) new points, \(report.artifactsUploaded) artifact file(s)\(report.complete ? "" : " (still running)")"
                    )
                    for refused in report.artifactsRefused {
                        Console.warn("artifact refused by the server: \(refused)")
                    }
                }
            } catch {
                // A server that went away fails every later run the same way: stop at the first, in one line.
                try ServerCheck.requireReachable(probe)
                failures += 1
                reports.append([
                    "id": .string(local.meta.id.rawValue), "name": .string(local.meta.name),
                    "error": .string("\(error)"),
                ])
                if !json { Console.printError("[\(offset + 1)/\(runs.count)] \(local.meta.name): error: \(error)") }
            }
        }
        if json { Console.printJSON(["server": .string(serverURL), "runs": .array(reports)]) }
        if failures > 0 {
            throw QuillError(
                .io,
                "\(failures) of \(runs.count) run(s) could not be uploaded (reasons above); the runs are safe on disk, run `quill sync` again once that is fixed"
            )
        }
    }
}
