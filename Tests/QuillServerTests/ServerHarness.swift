import Foundation
import QuillCore
import QuillTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `quill serve` process on 127.0.0.1 with an ephemeral port and its own data folder.
final class ServerProcess: @unchecked Sendable {
    // @unchecked Sendable: all stored properties are set in init and only read afterwards.
    let process: Process
    let port: Int
    let data: String
    /// The `--store` URL the server was started with (a PostgreSQL database), or `nil` for the data folder's
    /// SQLite file.
    let store: String?

    /// - Parameters:
    ///   - data: The data folder (`--data`).
    ///   - store: A `--store` URL (`postgres://…`); `nil` keeps the SQLite file in `data`.
    ///   - stderrPath: A file that receives the server's log (standard error); discarded when `nil`.
    init(data: String, store: String? = nil, extraArguments: [String] = [], stderrPath: String? = nil) throws {
        self.data = data
        self.store = store
        process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("quill"))
        // No embedded worker: schemathesis submits jobs with generated commands, which must never run.
        process.arguments =
            ["serve", "--port", "0", "--data", data, "--local-workers", "0"]
            + (store.map { ["--store", $0] } ?? []) + extraArguments
        let pipe = Pipe()
        process.standardOutput = pipe
        if let stderrPath {
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: stderrPath) ?? FileHandle.nullDevice
        } else {
            process.standardError = FileHandle.nullDevice
        }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        port = try ServeOutput.listeningPort(from: pipe.fileHandleForReading)
    }

    /// Starts a server as ``init(data:store:extraArguments:stderrPath:)`` does, waiting for it to listen off Swift's
    /// cooperative pool: that pool has one thread per core (two here), and a test blocked on a starting server
    /// stalls every other test's timers and requests behind it (seen as missed deadlines in the parallel CI run).
    static func start(
        data: String,
        store: String? = nil,
        extraArguments: [String] = [],
        stderrPath: String? = nil
    ) async throws -> ServerProcess {
        try await offPool {
            try ServerProcess(data: data, store: store, extraArguments: extraArguments, stderrPath: stderrPath)
        }
    }

    /// Stops the server without waiting for Foundation's exit notice, which another test's process can delay
    /// (``Foundation/Process/stop(grace:)``).
    deinit { process.stop() }

    /// Creates a user with `quill users create` on the server's store (its data folder, or its `--store`) and
    /// returns the user's API key.
    func createUser(_ name: String, admin: Bool = false) throws -> String {
        try Self.key(fromUsersCreate: BuiltProducts.run(BuiltProducts.path("quill"), usersCreate(name, admin: admin)))
    }

    /// ``createUser(_:admin:)`` from async code (Swift picks this overload there): the wait for `quill users create`
    /// happens off the cooperative pool.
    func createUser(_ name: String, admin: Bool = false) async throws -> String {
        try Self.key(
            fromUsersCreate: await BuiltProducts.run(BuiltProducts.path("quill"), usersCreate(name, admin: admin))
        )
    }

    private func usersCreate(_ name: String, admin: Bool) -> [String] {
        ["users", "create", name, "--data", data, "--json"] + (store.map { ["--store", $0] } ?? [])
            + (admin ? ["--admin"] : [])
    }

    private static func key(fromUsersCreate result: BuiltProducts.Result) throws -> String {
        guard result.status == 0, let key = (try? JSONParser.parse(Array(result.stdout.utf8)))?["api_key"]?.stringValue
        else { throw QuillError(.process, "quill users create failed: \(result.stderr)") }
        return key
    }

    /// Sends a signal and waits until the process has ended (not for Foundation to notice it).
    func kill(_ signal: Int32) {
        Platform.kill(process.processIdentifier, signal)
        process.waitForEnd(timeout: 60)
    }

    /// Sends a request and returns the status and the parsed JSON body (nil when empty).
    @discardableResult
    func request(
        _ method: String,
        _ path: String,
        json: JSONValue? = nil,
        raw: [UInt8]? = nil,
        key: String? = nil
    ) async throws -> (status: Int, body: JSONValue?) {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else {
            throw QuillError(.invalidArgument, "bad path \(path)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let json { request.httpBody = Data(JSONWriter.bytes(json)) }
        if let raw { request.httpBody = Data(raw) }
        if request.httpBody != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let body = data.isEmpty ? nil : try? JSONParser.parse(Array(data))
        return (status, body)
    }

    /// Waits until the server is handling `count` requests besides the `/metrics` request that asks (its
    /// `quill_http_requests_in_flight` gauge), polling every 20 ms; false when `seconds` pass first. Tests that
    /// need a request to be in flight wait for this instead of sleeping a fixed time, which a loaded machine
    /// outlasts.
    /// With users, `key` is an administrator's (only administrators read `/metrics`).
    func waitUntilInFlight(_ count: Int, seconds: Double = 60, key: String? = nil) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let text = try await self.text("/metrics", key: key)
            let line = text.split(separator: "\n").first { $0.hasPrefix("quill_http_requests_in_flight ") }
            if let value = line?.split(separator: " ").last.flatMap({ Int($0) }), value - 1 >= count { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Sends a request whose body is text, for endpoints that return text.
    func text(_ path: String, key: String? = nil) async throws -> String {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return "" }
        var request = URLRequest(url: url)
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (data, _) = try await URLSession.shared.data(for: request)
        return String(decoding: data, as: UTF8.self)
    }
}
