import Foundation
package import Hummingbird
package import Logging
import NIOCore
import QuillCore
package import QuillStore

/// How `quill serve` runs.
package struct ServerConfiguration: Sendable {
    /// The address to bind.
    package var host: String = "127.0.0.1"
    /// The port to bind; 0 picks a free one.
    package var port: Int = 8080
    /// The largest request body accepted, in bytes. Default 32 MiB.
    package var maxBodyBytes: Int = 32 << 20
    /// The namespace projects go in when a request names none (single-user mode).
    package var defaultNamespace: String = "local"
    /// The folder holding artifact bytes (`sha256/`, `tmp/`); `quill serve` uses `<data>/artifacts`.
    package var artifactDirectory: String = "artifacts"
    /// The largest artifact file accepted, in bytes. Default 5 GiB.
    package var maxArtifactBytes: Int64 = 5 << 30
    /// The bytes of artifacts one namespace may store (each distinct content counted once); `nil` is no limit.
    package var namespaceQuotaBytes: Int64?

    /// Creates a configuration with defaults.
    package init() {}
}

/// Builds the Quill server over a store.
package enum QuillServer {
    /// The server's version, reported by `/api/v1/status`.
    package static let version = "0.1.0"

    /// The application: routes, middleware and error handling, not yet running.
    package static func application(
        store: any TrackingStore,
        artifacts: any ArtifactStore,
        configuration: ServerConfiguration,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let metrics = ServerMetrics()
        let router = Router(context: QuillRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        let api = APIContext(store: store, configuration: configuration, metrics: metrics, started: Date())
        StatusRoutes(api: api).register(router)
        ProjectRoutes(api: api).register(router.group("api/v1/projects"))
        RunRoutes(api: api).register(router.group("api/v1/runs"))
        ArtifactRoutes(api: api, artifacts: artifacts, blobs: BlobStore(root: configuration.artifactDirectory))
            .register(router.group("api/v1/runs/:id/artifacts"))
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "quill"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
    }
}

/// What every route handler shares.
struct APIContext: Sendable {
    let store: any TrackingStore
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let started: Date

    /// Reads the request body as JSON, refusing bodies over the limit with 413.
    func json(_ request: Request) async throws -> JSONValue {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw QuillError(
                .payloadTooLarge,
                "the request body is larger than \(configuration.maxBodyBytes) bytes; send smaller batches"
            )
        }
        let bytes = Array(buffer.readableBytesView)
        guard !bytes.isEmpty else { throw QuillError(.invalidArgument, "the request needs a JSON body") }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw QuillError(.malformed, "the request body is not valid JSON: \(error)")
        }
    }

    /// The run named in the path, when the caller may have `access` to its project.
    ///
    /// Every route that touches a run goes through here, so access is checked in one place. A run the caller
    /// may not read is reported as not found, so its existence does not leak.
    func run(_ context: QuillRequestContext, _ access: Access) async throws -> StoredRun {
        let id = try runID(context)
        guard let run = try await store.run(id) else { throw QuillError(.notFound, "run '\(id)' not found") }
        return run
    }

    /// The run id in the path.
    func runID(_ context: QuillRequestContext) throws -> RunID {
        let text = try context.parameters.require("id")
        guard let id = RunID(text) else { throw QuillError(.notFound, "run '\(text)' not found") }
        return id
    }
}
