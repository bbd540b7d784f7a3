import Foundation
import QuillCore
import QuillStore
import QuillTesting
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Whether the tests that need PostgreSQL can run: `QUILL_TEST_POSTGRES_URL` names a server (scripts/test.sh
/// starts one and sets it).
enum PostgresAvailability {
    static let configured = !(ProcessInfo.processInfo.environment[TestPostgres.variable] ?? "").isEmpty
    /// Why a test is skipped when ``configured`` is false.
    static let reason: Comment =
        "QUILL_TEST_POSTGRES_URL is not set: scripts/test.sh starts a PostgreSQL server and sets it (or `scripts/postgres.sh start DIR PORT`)"
}

/// Several `quill serve` replicas on ONE PostgreSQL database, as real processes on 127.0.0.1: each has its own
/// data folder, all share the database and one artifact folder (`--artifacts`), as replicas behind a load
/// balancer would. The processes and the workers started through ``startWorker(replica:name:slots:environment:)``
/// are killed (by their ids) when the set is released, also when a test fails.
final class ReplicaSet: @unchecked Sendable {
    // @unchecked Sendable: `servers` and `workers` change only under `lock`.
    let temp: TemporaryDirectory
    /// The `--store` URL every replica was started with.
    let store: String
    /// The shared artifact folder.
    let artifacts: String
    private let lock = NSLock()
    private var started: [ServerProcess]
    private var workerProcesses: [Process] = []

    /// The replicas, in the order they were started.
    var servers: [ServerProcess] { lock.withLock { started } }

    /// Starts `count` replicas at once (their migrations race under the advisory lock) on `location`, or on a
    /// fresh database of the test server.
    init(
        _ label: String,
        count: Int = 3,
        location: PostgresLocation? = nil,
        extraArguments: [String] = []
    ) async throws {
        let temp = TemporaryDirectory("quill-replicas")
        let database: PostgresLocation
        if let location { database = location } else { database = try await TestPostgres.database(label) }
        let store = database.description
        let artifacts = temp.file("artifacts")
        // ServerProcess reads the port from the process's output, blocking: off the cooperative pool.
        let servers = try await withThrowingTaskGroup(of: (Int, ServerProcess).self) { group in
            for index in 0..<count {
                group.addTask {
                    let server = try await offPool {
                        try Self.launch(index, temp: temp, store: store, artifacts: artifacts, extra: extraArguments)
                    }
                    return (index, server)
                }
            }
            var servers: [(Int, ServerProcess)] = []
            for try await started in group { servers.append(started) }
            return servers.sorted { $0.0 < $1.0 }.map(\.1)
        }
        self.temp = temp
        self.store = store
        self.artifacts = artifacts
        started = servers
    }

    /// Starts replica `index` (blocking until it listens).
    private static func launch(
        _ index: Int,
        temp: TemporaryDirectory,
        store: String,
        artifacts: String,
        extra: [String]
    ) throws -> ServerProcess {
        try ServerProcess(
            data: temp.file("replica-\(index)"),
            store: store,
            extraArguments: ["--artifacts", artifacts] + extra,
            stderrPath: temp.file("replica-\(index).log")
        )
    }

    /// Starts one more replica, blocking until it listens (call it off the cooperative pool), and returns it.
    func addReplicaBlocking(extraArguments: [String] = []) throws -> ServerProcess {
        let index = servers.count
        let server = try Self.launch(index, temp: temp, store: store, artifacts: artifacts, extra: extraArguments)
        lock.withLock { started.append(server) }
        return server
    }

    deinit {
        for worker in workerProcesses where worker.isRunning {
            _ = Platform.kill(worker.processIdentifier, SIGKILL)
            worker.waitUntilExit()
        }
        for server in started where server.process.isRunning {
            _ = Platform.kill(server.process.processIdentifier, SIGKILL)
            server.process.waitUntilExit()
        }
    }

    /// The log (standard error) of replica `index`, for failure messages.
    func log(_ index: Int) -> String {
        (try? String(contentsOfFile: temp.file("replica-\(index).log"), encoding: .utf8)) ?? ""
    }

    /// Creates the first user (an administrator) with `quill users create --store`, and waits until every
    /// replica asks for keys; returns the user's key.
    func createAdministrator(_ name: String = "root") async throws -> String {
        let key = try await servers[0].createUser(name, admin: true)
        for server in servers {
            let asking = try await waitUntil(seconds: 30) {
                try await ReplicaHTTP.send(server, "GET", "/api/v1/whoami").body?["mode"] == "anonymous"
            }
            #expect(asking, "replica on port \(server.port) did not turn authentication on")
        }
        return key
    }

    /// Creates a user through replica `replica`'s API (`POST /api/v1/users`) and returns the user's key.
    func createUser(_ name: String, replica: Int = 0, by admin: String) async throws -> String {
        let created = try await ReplicaHTTP.send(
            servers[replica],
            "POST",
            "/api/v1/users",
            json: ["name": .string(name)],
            key: admin
        )
        return try #require(created.body?["api_key"]?["key"]?.stringValue, "\(created)")
    }

    /// Starts a `quill worker` taking jobs from replica `replica`, with its own QUILL_HOME and 60-second leases.
    @discardableResult
    func startWorker(replica: Int, name: String, slots: Int = 1, environment: [String: String]) throws -> Process {
        let home = temp.file("worker-\(name)")
        let process = try BuiltProducts.start(
            BuiltProducts.path("quill"),
            [
                "worker", "--server", "http://127.0.0.1:\(servers[replica].port)", "--name", name, "--slots",
                String(slots), "--runs-dir", home + "/runs", "--lease", "60",
            ],
            environment: environment.merging(["QUILL_HOME": home]) { _, new in new }
        )
        lock.withLock { workerProcesses.append(process) }
        return process
    }

    /// Kills replica `index` with SIGKILL and waits (off the cooperative pool) until it is gone.
    func killReplica(_ index: Int) async {
        let process = servers[index].process
        _ = Platform.kill(process.processIdentifier, SIGKILL)
        _ = try? await waitUntil(seconds: 30) { !process.isRunning }
    }
}

/// Requests to the replicas through a session of their own that keeps no cookies: a dashboard session is sent
/// only when a test passes its cookie, and never leaks into other tests' requests.
enum ReplicaHTTP {
    /// An answer: the status, the JSON body (nil when empty or not JSON) and the headers (lower-cased names).
    struct Answer: CustomStringConvertible {
        var status: Int
        var body: JSONValue?
        var headers: [String: String]

        var description: String { "\(status) \(body.map { String(describing: $0) } ?? "")" }
    }

    static let session = makeSession(timeout: 120)
    /// For requests that must be answered within 30 seconds (FoundationNetworking goes by the session's timeout,
    /// not the request's).
    static let shortSession = makeSession(timeout: 30)

    private static func makeSession(timeout: TimeInterval) -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpMaximumConnectionsPerHost = 32
        return URLSession(configuration: configuration)
    }

    /// Sends a request to `server`; `cookie` is a dashboard session token sent as the `quill_session` cookie;
    /// no answer within 120 seconds (30 when `short`) is an error.
    static func send(
        _ server: ServerProcess,
        _ method: String,
        _ path: String,
        json: JSONValue? = nil,
        raw: [UInt8]? = nil,
        key: String? = nil,
        cookie: String? = nil,
        short: Bool = false
    ) async throws -> Answer {
        guard let url = URL(string: "http://127.0.0.1:\(server.port)\(path)") else {
            throw QuillError(.invalidArgument, "bad path \(path)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let json {
            request.httpBody = Data(JSONWriter.bytes(json))
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let raw { request.httpBody = Data(raw) }
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let cookie { request.setValue("quill_session=\(cookie)", forHTTPHeaderField: "Cookie") }
        let (data, response) = try await (short ? shortSession : session).data(for: request)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return Answer(
            status: http?.statusCode ?? 0,
            body: data.isEmpty ? nil : try? JSONParser.parse(Array(data)),
            headers: headers
        )
    }
}

extension ReplicaHTTP {
    /// The bytes of a GET answered 200, or `nil`.
    static func bytes(_ server: ServerProcess, _ path: String, key: String? = nil) async throws -> [UInt8]? {
        guard let url = URL(string: "http://127.0.0.1:\(server.port)\(path)") else { return nil }
        var request = URLRequest(url: url)
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await session.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode == 200 ? Array(data) : nil
    }
}

/// A flag tasks share.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// Runs a blocking closure on a Dispatch thread, so the caller's cooperative thread stays free.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; whether it held. An error thrown by the
/// condition (a request refused at the socket) counts as "not yet".
func waitUntil(seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return (try? await condition()) == true
}
