import Foundation
import QuillAPI
import QuillClient
import QuillCore
import QuillTesting

/// A real `quill serve` process on 127.0.0.1 (an ephemeral port) in single-user mode, with a client for it.
final class TestServer: @unchecked Sendable {
    // @unchecked Sendable: all stored properties are set in init and only read afterwards.
    let process: Process
    let folder: TemporaryDirectory
    let port: Int

    var url: String { "http://127.0.0.1:\(port)" }
    var client: BlockingHTTPClient { BlockingHTTPClient(baseURL: url, apiKey: nil, timeout: 20) }

    init() throws {
        folder = TemporaryDirectory("quill-client")
        process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("quill"))
        process.arguments = ["serve", "--port", "0", "--data", folder.file("server")]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "QUILL_HOME": folder.file("home"), "QUILL_TRACKING_URI": "", "QUILL_API_KEY": "",
        ]) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        port = try ServeOutput.listeningPort(from: pipe.fileHandleForReading)
    }

    /// Creates a run through the REST API and returns its id.
    @discardableResult
    func createRun(
        name: String,
        project: String = "client-tests",
        startedAt: String? = nil,
        extra: [String: JSONValue] = [:]
    ) throws -> RunID {
        var body: [String: JSONValue] = ["project": .string(project), "name": .string(name)]
        if let startedAt { body["started_at"] = .string(startedAt) }
        body.merge(extra) { _, new in new }
        let created = try client.call("POST", APIPath.runs, json: .object(body))
        guard let id = created["id"]?.stringValue.flatMap(RunID.init) else {
            throw QuillError(.malformed, "the server created a run without an id: \(created)")
        }
        return id
    }

    /// Stops the server with SIGTERM and waits until it has ended (not for Foundation's exit notice, which another
    /// test's process can delay: ``Foundation/Process/stop(grace:)``).
    func stop() { process.stop() }

    deinit { stop() }
}

/// A reader over the server with no API key and no saved credentials.
func reader(_ server: TestServer) -> RemoteRunReader {
    RemoteRunReader(client: server.client)
}
