import Foundation
import Hummingbird
import Logging
import QuillBlobs
import QuillCore
import QuillServer
import QuillStore
import QuillStorePostgres
import QuillStoreSQLite
import QuillTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("How often the routes read the store")
struct AuthorizationStoreReadsTests {
    /// Runs the server in this process over `store` (a ``CountingStore`` around a real SQLite store) until
    /// `body` returns, and passes it the port.
    func withServer(
        _ store: CountingStore,
        artifacts: any ArtifactStore,
        folder: String,
        _ body: (Int) async throws -> Void
    ) async throws {
        var configuration = ServerConfiguration()
        configuration.port = 0
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        // Stopping by cancellation makes Hummingbird log errors that are no failure here.
        var logger = Logger(label: "quill.test")
        logger.logLevel = .critical
        let app = QuillServer.application(
            store: store,
            artifacts: artifacts,
            blobs: FileBlobStore(root: folder + "/artifacts"),
            configuration: configuration,
            logger: logger
        ) { port in continuation.yield(port) }
        let server = Task { try await app.runService() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body(port)
        server.cancel()
        _ = await server.result
    }

    func get(_ port: Int, _ path: String, key: String? = nil) async throws -> (Int, JSONValue?) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
        var request = URLRequest(url: url, timeoutInterval: 60)
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONParser.parse(Array(data)))
    }

    @Test("GET /runs/{id} reads the run once (with its details) and its project at most once")
    func runReadOnce() async throws {
        let temp = TemporaryDirectory("quill-reads")
        let sqlite = try SQLiteTrackingStore(path: temp.file("quill.db"))
        try await checkRunReadOnce(sqlite, folder: temp.path)
    }

    @Test(
        "on PostgreSQL too, GET /runs/{id} reads the run once and its project at most once",
        .enabled(if: PostgresAvailability.configured, PostgresAvailability.reason)
    )
    func runReadOnceOnPostgres() async throws {
        let temp = TemporaryDirectory("quill-reads")
        try await TestPostgres.withStore("authz_reads") { store in
            try await checkRunReadOnce(store, folder: temp.path)
        }
    }

    /// The reads of `GET /runs/{id}` by its owner, again, and by a caller who may not read it, over `backend`.
    func checkRunReadOnce(
        _ backend: any TrackingStore & AccountStore & SessionStore & ActivityStore & ArtifactStore,
        folder: String
    ) async throws {
        // Two callers: an administrator and ada, who owns the run.
        _ = try await backend.createUser(name: "root", isAdmin: true)
        _ = try await backend.createUser(name: "ada", isAdmin: false)
        let secret = APIKeySecret.generate()
        _ = try await backend.createAPIKey(
            NewAPIKey(
                user: "ada",
                label: "default",
                prefix: APIKeySecret.prefix(of: secret),
                hash: APIKeySecret.hash(secret)
            )
        )
        let project = try await backend.project(namespace: "ada", displayName: "Vision", createdBy: "ada")
        let run = try await backend.createRun(NewRun(projectID: project.id))
        _ = try await backend.logMetric(
            run.id,
            MetricValue(key: "loss", value: 0.5, step: 1, timestamp: Date(), index: nil)
        )
        let store = CountingStore(backend)

        try await withServer(store, artifacts: backend, folder: folder) { port in
            store.reset()
            let (status, json) = try await get(port, "/api/v1/runs/\(run.id)", key: secret)
            #expect(status == 200)
            #expect(json?["project_path"] == "ada/vision")
            #expect(json?["metrics"]?["loss"]?["count"] == 1)
            #expect(json?["dashboard_url"]?.stringValue?.hasSuffix("/ada/vision/runs/\(run.id)") == true)
            // The first read: the run with its details, and its project, once each.
            #expect(store.calls == ["runDetails": 1, "project(id:)": 1])

            // Again: the project may come from the access cache.
            store.reset()
            #expect(try await get(port, "/api/v1/runs/\(run.id)", key: secret).0 == 200)
            let again = store.calls
            #expect(again["runDetails"] == 1)
            #expect((again["project(id:)"] ?? 0) <= 1)
            #expect(Set(again.keys).isSubset(of: ["runDetails", "project(id:)"]), "\(again)")

            // A caller who may not read it costs the same reads, and learns nothing.
            store.reset()
            let anonymous = try await get(port, "/api/v1/runs/\(run.id)")
            #expect(anonymous.0 == 404)
            #expect(store.calls["runDetails"] == 1)
            #expect(Set(store.calls.keys).isSubset(of: ["runDetails", "project(id:)"]), "\(store.calls)")
        }
    }
}
